"""The one way to run LipNet: :class:`LipReader` loads the model once; :meth:`LipReader.read` runs every stage.

Used by the command line, the evaluator and the app alike.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lipnet_core.crop_box import MOUTH_HEIGHT, MOUTH_WIDTH, CropBox
from lipnet_core.decoding import Decoded, ctc_decode
from lipnet_core.errors import ClipError
from lipnet_core.model import build_model, use_compiled_step_for
from lipnet_core.normalise import normalise_clip
from lipnet_core.options import DECODERS
from lipnet_core.paths import DEFAULT_WEIGHTS
from lipnet_core.preprocessing import PreparedClip, prepare_frames
from lipnet_core.uploads import saved_upload
from lipnet_core.video import read_clip
from lipnet_core.weights import configure_devices, load_weights, reads_mirrored


@dataclass
class Reading:
    """Everything a reading of one clip produced.

    Attributes:
        text, tokens: the chosen decoder's sentence and its label ids (1..39).
        decodings: every decoder's :class:`Decoded`, by name (greedy, beam, grid).
        class_probabilities: (T, 41) float32 per-frame softmax output (index 40 is the CTC blank).
        mouth_frames: (T, 46, 140) uint8 crop; :attr:`model_input` normalises it again when asked.
        crop, box: the crop method used (``grid`` or ``detected``) and the rectangle in frame pixels.
        key_frame: one full BGR frame (the middle one) for showing where the crop was taken.
        seconds: wall time per stage (read, crop, model, decode).
        trained: False when the model has random weights, so the text means nothing.
        precomputed: True when the class probabilities came from :mod:`lipnet_core.precomputed` (the network was
            not run now; the same weights produced them earlier).
    """

    text: str
    tokens: tuple[int, ...]
    decoder: str
    decodings: dict[str, Decoded]
    class_probabilities: np.ndarray
    mouth_frames: np.ndarray
    crop: str
    box: CropBox
    frame_size: tuple[int, int]
    key_frame: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)
    trained: bool = True
    precomputed: bool = False

    @property
    def model_input(self) -> np.ndarray:
        """(T, 46, 140, 1) float32: the normalised crop the network read. Computed from the uint8 crop when asked
        (a few milliseconds) rather than kept: it is four times its size, and the app keeps recent readings."""
        return normalise_clip(self.mouth_frames)

    @property
    def num_frames(self) -> int:
        return int(self.class_probabilities.shape[0])

    def summary(self) -> dict:
        """The JSON the command line prints."""
        return {
            "text": self.text,
            "tokens": list(self.tokens),
            "decoder": self.decoder,
            "decoders": {name: decoded.text for name, decoded in self.decodings.items()},
            "crop": self.crop,
            "box": self.box.as_dict(),
            "frames": self.num_frames,
            "seconds": {stage: round(value, 4) for stage, value in self.seconds.items()},
            "trained_weights": self.trained,
        }


class LipReader:
    """Loads the network once and reads clips.

    Args:
        weights: a ``.weights.h5`` file or a TensorFlow checkpoint prefix; default ``models/lipnet.weights.h5``.
        allow_untrained: when no weights file exists, use random weights (``trained`` is then False) instead of
            raising :class:`~lipnet_core.errors.WeightsError`. For tests and for showing the preprocessing.
        read_mirrored: read each clip and its mirror image and average the two outputs; by default, as the weights
            file says (adapted networks are marked so, :func:`~lipnet_core.weights.mark_read_mirrored`).
    """

    def __init__(self, weights: str | Path | None = None, allow_untrained: bool = False,
                 read_mirrored: bool | None = None):
        configure_devices()
        self.model = build_model(num_frames=None)
        self._compiled_steps = {}
        weights_path = Path(weights) if weights else DEFAULT_WEIGHTS
        if weights is None and allow_untrained and not DEFAULT_WEIGHTS.exists():
            self.weights_path, self.trained = None, False
        else:
            self.weights_path, self.trained = load_weights(self.model, weights_path), True
        self.read_mirrored = reads_mirrored(self.weights_path) if read_mirrored is None else read_mirrored

    def probabilities(self, model_input: np.ndarray) -> np.ndarray:
        """(T, 46, 140, 1) float32 → (T, 41) float32, through a compiled step traced for this clip length; with
        ``read_mirrored``, the mean of the clip's and its mirror image's outputs (one batch of two)."""
        batch = model_input[np.newaxis]
        if self.read_mirrored:
            batch = np.concatenate([batch, batch[:, :, :, ::-1]])
        use_compiled_step_for(self.model, "predict", batch.shape, self._compiled_steps)
        return np.asarray(self.model.predict_on_batch(batch), dtype=np.float32).mean(axis=0)

    def warm_up(self, num_frames: int = 75) -> None:
        """Run the network once on a still clip, so that the first real reading of that length does not also pay
        for TensorFlow's tracing and working memory (about 2 s and 0.4 GB, measured here)."""
        self.probabilities(np.zeros((num_frames, MOUTH_HEIGHT, MOUTH_WIDTH, 1), np.float32))

    def decode(self, class_probabilities: np.ndarray, decoders=DECODERS) -> dict[str, Decoded]:
        decodings = {}
        for name in decoders:
            if name == "grid":
                from lipnet_core.grammar import grid_grammar_decode

                decodings[name] = grid_grammar_decode(class_probabilities)
            else:
                decodings[name] = ctc_decode(class_probabilities, name)
        return decodings

    def read(self, clip_path: str | Path, crop: str = "auto", decoder: str = "greedy", decoders=DECODERS,
             class_probabilities: np.ndarray | None = None) -> Reading:
        """Read the sentence spoken in a clip file. Raises ClipError / FaceNotFoundError for unusable clips.

        ``class_probabilities``: this network's (T, 41) output for this clip, computed earlier (see
        :mod:`lipnet_core.precomputed`); the network is then not run, the rest of the chain is."""
        started = time.perf_counter()
        clip = read_clip(clip_path)
        seconds = {"read": time.perf_counter() - started}
        started = time.perf_counter()
        prepared = prepare_frames(clip, crop)
        seconds["crop"] = time.perf_counter() - started
        return self.read_prepared(prepared, decoder, decoders, seconds, class_probabilities)

    def read_prepared(self, prepared: PreparedClip, decoder: str = "greedy", decoders=DECODERS,
                      seconds: dict | None = None, class_probabilities: np.ndarray | None = None) -> Reading:
        """Read a clip already cut and normalised (so two networks can read one clip without decoding it twice)."""
        if decoder not in DECODERS:
            raise ClipError(f"Unknown decoder {decoder!r}; use one of {', '.join(DECODERS)}.")
        decoders = tuple(dict.fromkeys((decoder, *decoders)))
        seconds = dict(seconds or {})
        precomputed = class_probabilities is not None
        if precomputed and len(class_probabilities) != len(prepared.model_input):
            raise ClipError(f"The stored reading has {len(class_probabilities)} frames but the clip has "
                            f"{len(prepared.model_input)}: run `python -m lipnet_core precompute` again.")
        started = time.perf_counter()
        if not precomputed:
            class_probabilities = self.probabilities(prepared.model_input)
        seconds["model"] = time.perf_counter() - started

        started = time.perf_counter()
        decodings = self.decode(class_probabilities, decoders)
        seconds["decode"] = time.perf_counter() - started

        chosen = decodings[decoder]
        clip = prepared.clip
        return Reading(
            text=chosen.text,
            tokens=chosen.tokens,
            decoder=decoder,
            decodings=decodings,
            class_probabilities=class_probabilities,
            # Copies, not views: a view of one frame or of the crop would keep the whole decoded clip (23 MB for
            # 75 GRID frames) alive for as long as the reading is kept, in a cache, say.
            mouth_frames=np.array(prepared.mouth_frames),
            crop=prepared.location.mode,
            box=prepared.location.box,
            frame_size=clip.frame_size,
            key_frame=np.array(clip.frames[len(clip.frames) // 2]),
            seconds=seconds,
            trained=self.trained,
            precomputed=precomputed,
        )

    def read_bytes(self, data: bytes, filename: str, **options) -> Reading:
        """Read an uploaded clip. Only the name's extension is used (checked against a whitelist); the bytes go to
        a private temporary directory that is removed afterwards."""
        with saved_upload(data, filename) as path:
            return self.read(path, **options)
