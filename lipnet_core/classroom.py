"""What the demo pages need around a reading: which weights and clips to offer, a sentence to say on camera, one
clip made ready to show, and the best path through the probabilities that CTC collapses into text.

Pages call these and render; nothing here imports Streamlit.
"""

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.alignments import load_alignment
from lipnet_core.dataset import GridClip, load_split
from lipnet_core.errors import ClipError, DataDirError
from lipnet_core.grid_sentences import GRID_GRAMMAR
from lipnet_core.vocabulary import BLANK_INDEX, VOCABULARY

WEIGHTS_VARIABLE = "LIPNET_WEIGHTS"
MAX_UPLOAD_MEGABYTES = 50  # keep equal to server.maxUploadSize in .streamlit/config.toml
UPLOAD_TYPES = ("mp4", "mov", "avi", "mpg", "mpeg", "webm", "m4v", "mkv")
BLANK_SYMBOL = "·"
SPACE_SYMBOL = "␣"


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
    from lipnet_core.weights import DEFAULT_WEIGHTS  # imported lazily: the weights module loads Keras

    return WeightsChoice(DEFAULT_WEIGHTS, from_environment=False)


def open_reader(choice: WeightsChoice):
    """A :class:`~lipnet_core.reader.LipReader` on the chosen weights. Without ``$LIPNET_WEIGHTS`` and without the
    default file the model has random weights (``reader.trained`` is False); a set but unusable
    ``$LIPNET_WEIGHTS`` raises WeightsError."""
    from lipnet_core.reader import LipReader  # imported lazily: loads Keras

    if choice.from_environment:
        return LipReader(weights=choice.path)
    return LipReader(allow_untrained=True)


def random_grid_sentence(seed: int | None = None) -> str:
    """One of GRID's 64,000 sentences, a word drawn from each of the six slots (command … adverb)."""
    chooser = random.Random(seed)
    return " ".join(chooser.choice(slot) for slot in GRID_GRAMMAR)


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
    from lipnet_core.rendering import frame_with_box, mouth_gif

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
    from lipnet_core.playback import browser_playable

    reading = reader.read(clip.video_path, crop=crop)
    reference = load_alignment(clip.alignment_path).sentence
    return _view(clip.clip_id, reading, browser_playable(clip.video_path), reference)


def check_upload(data: bytes, filename: str, max_megabytes: float = MAX_UPLOAD_MEGABYTES) -> None:
    """Refuse an upload before decoding it: unsupported extension, empty, or larger than the limit."""
    from lipnet_core.reader import upload_suffix

    upload_suffix(filename)
    if not data:
        raise ClipError("The file is empty (0 bytes); choose a video file.")
    if len(data) > max_megabytes * 2**20:
        raise ClipError(f"The file is {len(data) / 2**20:.0f} MB; clips up to {max_megabytes:g} MB are accepted.")


def view_upload(reader, data: bytes, filename: str, crop: str = "auto") -> ClipView:
    """Check, read and prepare an uploaded clip. The name only contributes its extension; the bytes are written to
    a private temporary directory. Raises ClipError (or FaceNotFoundError) with a sentence a user can act on."""
    from lipnet_core.playback import browser_playable_bytes

    check_upload(data, filename)
    reading = reader.read_bytes(data, filename, crop=crop)
    return _view("Your clip", reading, browser_playable_bytes(data, filename), reference=None)


@dataclass(frozen=True)
class BestPath:
    """The most likely class per frame, and the two CTC steps that turn it into text.

    ``frames`` has one symbol per frame (``·`` the blank, ``␣`` a space); ``merged`` joins runs of the same
    symbol; ``text`` drops the blanks. This is greedy decoding, shown step by step.
    """

    frames: str
    merged: str
    text: str


def best_path(class_probabilities: np.ndarray) -> BestPath:
    """(T, 41) probabilities → the greedy path, its repeats merged, and its blanks removed."""
    winners = np.asarray(class_probabilities).argmax(axis=-1)
    symbols = [BLANK_SYMBOL if index == BLANK_INDEX else VOCABULARY[index] or "∅" for index in winners]
    symbols = [SPACE_SYMBOL if symbol == " " else symbol for symbol in symbols]
    merged = [symbol for position, symbol in enumerate(symbols) if position == 0 or symbol != symbols[position - 1]]
    text = "".join(symbol for symbol in merged if symbol not in (BLANK_SYMBOL, "∅")).replace(SPACE_SYMBOL, " ")
    return BestPath(frames="".join(symbols), merged="".join(merged), text=text)


def data_path_dot() -> str:
    """A Graphviz picture of the data path, clip to text, with the shape at each step."""
    steps = [
        ("clip", "clip\\n.mp4 / .mpg, 25 fps"),
        ("frames", "frames\\nT×H×W×3 uint8"),
        ("crop", "mouth crop\\nT×46×140 uint8"),
        ("normalise", "normalise\\nT×46×140×1 float32"),
        ("conv", "Conv3D ×3\\n+ max-pool"),
        ("lstm", "BiLSTM ×2"),
        ("softmax", "softmax\\nT×41"),
        ("ctc", "CTC decode"),
        ("text", "text"),
    ]
    nodes = "\n".join(f'  {name} [label="{label}"];' for name, label in steps)
    edges = " -> ".join(name for name, _ in steps)
    return (
        "digraph data_path {\n  rankdir=TB;\n"
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=12, '
        "width=2.4];\n"
        f"{nodes}\n  {edges};\n}}\n"
    )
