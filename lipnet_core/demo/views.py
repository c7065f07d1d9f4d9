"""What Try it out shows around a reading: which weights and clips to offer, and one clip made ready to show.

Pages call these and render; nothing here imports Streamlit.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.dataset import DEFAULT_SPEAKER, GridClip, load_split
from lipnet_core.errors import DataDirError
from lipnet_core.paths import DEFAULT_WEIGHTS
from lipnet_core.uploads import check_upload

WEIGHTS_VARIABLE = "LIPNET_WEIGHTS"


@dataclass(frozen=True)
class WeightsChoice:
    """Which weights file the app uses: ``$LIPNET_WEIGHTS`` when set, else ``models/lipnet.weights.h5``."""

    path: Path
    from_environment: bool

    @property
    def present(self) -> bool:
        return self.path.exists() or Path(f"{self.path}.index").exists()

    @property
    def cache_key(self) -> str:
        """Changes whenever the file is replaced, so cached readings from older weights are not reused."""
        return f"{self.path}:{self.path.stat().st_mtime_ns if self.path.exists() else 'absent'}"


def weights_choice() -> WeightsChoice:
    explicit = os.environ.get(WEIGHTS_VARIABLE)
    if explicit:
        return WeightsChoice(Path(explicit), from_environment=True)
    return WeightsChoice(DEFAULT_WEIGHTS, from_environment=False)


def open_reader(choice: WeightsChoice):
    """A :class:`~lipnet_core.reader.LipReader` on the chosen weights. Without ``$LIPNET_WEIGHTS`` and without the
    default file the model has random weights (``reader.trained`` is False); a set but unusable
    ``$LIPNET_WEIGHTS`` raises WeightsError."""
    from lipnet_core.reader import LipReader  # imported lazily: loads Keras

    if choice.from_environment:
        return LipReader(weights=choice.path)
    return LipReader(allow_untrained=True)


@dataclass(frozen=True)
class ClipChoice:
    clip: GridClip
    held_out: bool

    @property
    def label(self) -> str:
        return f"{self.clip.clip_id} (held out)" if self.held_out else self.clip.clip_id


def held_out_ids(split_path: str | Path) -> frozenset[str]:
    """The test clip ids of the training split, or none when the split file is missing or unreadable."""
    try:
        return frozenset(load_split(split_path)["test"])
    except DataDirError:
        return frozenset()


def clip_choices(clips: list[GridClip], test_ids=frozenset()) -> list[ClipChoice]:
    """Clips the model never trained on first, then the rest, each group by id."""
    choices = [ClipChoice(clip, clip.clip_id in test_ids) for clip in clips]
    return sorted(choices, key=lambda choice: (not choice.held_out, choice.clip.clip_id))


@dataclass
class ClipView:
    """One clip made ready to show.

    Attributes:
        name: what to call the clip on the page (its GRID id, or "Your clip").
        video: an H.264 MP4 the browser can play.
        reading: the :class:`~lipnet_core.reader.Reading` of the clip.
        mouth_gif: the normalised (T, 46, 140) crop the network sees, as an enlarged looping GIF.
        boxed_frame: (H, W, 3) uint8 RGB middle frame with the crop rectangle drawn.
        reference: the spoken sentence from the clip's alignment, when there is one.
    """

    name: str
    video: bytes
    reading: object
    mouth_gif: bytes
    boxed_frame: np.ndarray
    reference: str | None = None


def _view(name: str, reading, video: bytes, reference: str | None) -> ClipView:
    from lipnet_core.demo.rendering import frame_with_box, mouth_gif

    return ClipView(
        name=name,
        video=video,
        reading=reading,
        mouth_gif=mouth_gif(reading.model_input),
        boxed_frame=frame_with_box(reading.key_frame, reading.box),
        reference=reference,
    )


def view_grid_clip(reader, clip: GridClip, crop: str = "auto") -> ClipView:
    """Read a GRID clip and prepare everything the page shows, including its ground-truth sentence."""
    from lipnet_core.demo.playback import browser_playable

    if crop == "auto" and clip.speaker == DEFAULT_SPEAKER:
        crop = "grid"  # speaker 1's clips are framed as the network trained on them: no need to look for the face
    reading = reader.read(clip.video_path, crop=crop)
    reference = clip.sentence()
    return _view(clip.clip_id, reading, browser_playable(clip.video_path), reference)


def view_upload(reader, data: bytes, filename: str, crop: str = "auto") -> ClipView:
    """Check, read and prepare an uploaded clip. The name only contributes its extension; the bytes are written to
    a private temporary directory. Raises ClipError (or FaceNotFoundError) with a sentence a user can act on."""
    from lipnet_core.demo.playback import browser_playable_bytes

    check_upload(data, filename)
    reading = reader.read_bytes(data, filename, crop=crop)
    return _view("Your clip", reading, browser_playable_bytes(data, filename), reference=None)
