"""What Try it out shows around a reading: which weights and clips to offer, and one clip made ready to show.

Pages call these and render; nothing here imports Streamlit.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.crop_box import GRID_FRAME_SIZE
from lipnet_core.dataset import DEFAULT_SPEAKER, GridClip, list_clips, load_split
from lipnet_core.errors import DataDirError, LipNetError
from lipnet_core.grid_sentences import sentence_from_id
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


def warm_up_live_reading(reader, clip: GridClip | None = None) -> None:
    """Pay a live reading's one-time costs before the first upload, so that the server holds what a full class will
    need from the start and the first pupil to upload does not wait for it: TensorFlow's trace and working memory
    for a GRID-length clip, and the face detector's model.

    With ``clip`` (the server passes the first GRID clip of its data directory) it is read as an upload is read,
    twice, with the mouth found by the face detector, and made ready to show once. A still clip and a blank frame
    leave much of that working memory to the first real upload: the blank frame never reaches the detector's second
    and third networks, and the network's second pass, and its first on a real face, took more than its first. In
    one process with the server's allocator settings (``MALLOC_ARENA_MAX=2``), after the still clip and the blank
    frame alone, 16 GRID clips and four uploads, all dropped afterwards, left 187 and 142 MiB more than before them in
    two runs of three; after this warm-up, 3 to 48 MiB in three runs (docs/classroom.md). Without ``clip``, or when
    it cannot be read, the still clip and the blank frame only."""
    from lipnet_core.face_detection import detect_faces

    reader.warm_up()
    if clip is not None:
        try:
            for _ in range(2):
                reader.read(clip.video_path, crop="detected")
            view_grid_clip(reader, clip)
            return
        except LipNetError:
            pass
    detect_faces(np.zeros((1, *GRID_FRAME_SIZE, 3), np.uint8))  # loads the detector and runs its first network


def warm_up_clip(directory) -> GridClip | None:
    """The first clip of speaker 1 in ``directory`` (the server's warm-up reads it), or None without GRID data."""
    try:
        clips = list_clips(directory)
    except DataDirError:
        return None
    return clips[0] if clips else None


SPLIT_NAMES = ("test", "validation", "train")
SPLIT_LABELS = {"test": "held out (test)", "validation": "held out (validation)", "train": "trained on"}


@dataclass(frozen=True)
class ClipChoice:
    """A GRID clip offered in the picker, with the list of the training split it is in (None: in none)."""

    clip: GridClip
    split: str | None = None

    @property
    def held_out(self) -> bool:
        return self.split in ("test", "validation")

    @property
    def label(self) -> str:
        return f"{self.clip.clip_id} · {SPLIT_LABELS[self.split]}" if self.split else self.clip.clip_id


def clip_splits(split_path: str | Path) -> dict[str, str]:
    """Each clip id's list in the training split (test, validation or train); empty when the file is missing."""
    try:
        split = load_split(split_path)
    except DataDirError:
        return {}
    return {clip_id: name for name in SPLIT_NAMES for clip_id in split.get(name, ())}


def held_out_ids(split_path: str | Path) -> frozenset[str]:
    """The test clip ids of the training split, or none when the split file is missing or unreadable."""
    return frozenset(clip_id for clip_id, name in clip_splits(split_path).items() if name == "test")


def clip_choices(clips: list[GridClip], splits: dict[str, str] | None = None) -> list[ClipChoice]:
    """Test clips first, then validation, then the clips trained on, then any others; each group by id."""
    splits = splits or {}
    order = {name: position for position, name in enumerate(SPLIT_NAMES)}
    choices = [ClipChoice(clip, splits.get(clip.clip_id)) for clip in clips]
    return sorted(choices, key=lambda choice: (order.get(choice.split, len(order)), choice.clip.clip_id))


@dataclass
class ClipView:
    """One clip made ready to show.

    Attributes:
        name: what to call the clip on the page (its GRID id, or "Your clip").
        video: an H.264 MP4 the browser can play.
        reading: the :class:`~lipnet_core.reader.Reading` of the clip.
        mouth_gif: the normalised (T, 46, 140) crop the network sees, as an enlarged looping GIF.
        boxed_frame: (H, W, 3) uint8 RGB middle frame with the crop rectangle drawn.
        reference: the spoken sentence, when known: from the clip's alignment, or spelled by a GRID file name.
        reference_source: where ``reference`` came from, in words.
    """

    name: str
    video: bytes
    reading: object
    mouth_gif: bytes
    boxed_frame: np.ndarray
    reference: str | None = None
    reference_source: str = ""

    @property
    def nbytes(self) -> int:
        """The memory its pictures, video and reading hold (what a cache of views must count)."""
        reading = self.reading
        arrays = (self.boxed_frame, reading.class_probabilities, reading.mouth_frames, reading.key_frame)
        return len(self.video) + len(self.mouth_gif) + sum(array.nbytes for array in arrays)


def _view(name: str, reading, video: bytes, reference: str | None, reference_source: str = "") -> ClipView:
    from lipnet_core.demo.rendering import frame_with_box, mouth_gif

    return ClipView(
        name=name,
        video=video,
        reading=reading,
        mouth_gif=mouth_gif(reading.model_input),
        boxed_frame=frame_with_box(reading.key_frame, reading.box),
        reference=reference,
        reference_source=reference_source,
    )


def grid_crop_mode(clip: GridClip, crop: str) -> str:
    """The crop a GRID clip is read with: speaker 1's clips are framed as the network trained on them, so ``auto``
    takes the fixed box without looking for the face."""
    return "grid" if crop == "auto" and clip.speaker == DEFAULT_SPEAKER else crop


def needs_network(clip: GridClip, crop: str, precomputed) -> bool:
    """False when the network's output for this clip is stored (see :mod:`lipnet_core.precomputed`)."""
    return not (precomputed is not None and precomputed.crop == grid_crop_mode(clip, crop)
                and clip.speaker == DEFAULT_SPEAKER and clip.clip_id in precomputed)


def view_grid_clip(reader, clip: GridClip, crop: str = "auto", precomputed=None) -> ClipView:
    """Read a GRID clip and prepare everything the page shows, including its ground-truth sentence.

    ``precomputed``: :class:`~lipnet_core.precomputed.PrecomputedReadings` of the reader's weights; when it holds
    this clip (same bytes, same crop) the network's stored output is decoded instead of running the network."""
    from lipnet_core.demo.playback import browser_playable

    crop = grid_crop_mode(clip, crop)
    class_probabilities = None
    if precomputed is not None and precomputed.crop == crop and clip.speaker == DEFAULT_SPEAKER:
        class_probabilities = precomputed.class_probabilities(clip.clip_id, clip.video_path)
    reading = reader.read(clip.video_path, crop=crop, class_probabilities=class_probabilities)
    source = "the clip's alignment" if clip.alignment_path is not None else "the clip's GRID id"
    return _view(clip.clip_id, reading, browser_playable(clip.video_path), clip.sentence(), source)


def view_upload(reader, data: bytes, filename: str, crop: str = "auto") -> ClipView:
    """Check, read and prepare an uploaded clip. The name only contributes its extension; the bytes are written to
    a private temporary directory. Raises ClipError (or FaceNotFoundError) with a sentence a user can act on."""
    from lipnet_core.demo.playback import browser_playable_bytes

    check_upload(data, filename)
    reading = reader.read_bytes(data, filename, crop=crop)
    reference = sentence_from_id(Path(filename).stem)  # bras9a.mpg says "bin red at s nine again"; used as text only
    return _view("Your clip", reading, browser_playable_bytes(data, filename), reference,
                 "the file's name, a GRID clip id" if reference else "")
