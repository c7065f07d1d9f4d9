"""The mouth window's geometry: the 46×140 crop the network reads, and GRID speaker 1's fixed place for it."""

from dataclasses import asdict, dataclass

MOUTH_HEIGHT = 46
MOUTH_WIDTH = 140
GRID_FRAME_SIZE = (288, 360)  # (height, width)


@dataclass(frozen=True)
class CropBox:
    """A rectangle in frame pixels: rows top:bottom, cols left:right (end exclusive)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def as_dict(self) -> dict:
        return asdict(self)


GRID_BOX = CropBox(top=190, left=80, bottom=236, right=220)
