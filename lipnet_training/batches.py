"""Batches for training and validation, as a ``keras.utils.PyDataset`` (no tf.data, so it runs under JAX too).

Training batches are windows of each clip around its spoken words (LipNet-style temporal jitter): GRID clips are
3 s but the words take about 37 frames of the 75, and the network's cost is linear in frames, so a window with a
random margin of silence halves the cost of a step. Window lengths snap to a few sizes (``WINDOW_LENGTHS``) so
the compiled step is traced a handful of times; a fraction of batches use the whole clip so the network keeps
seeing the long silences it meets at inference. With ``wide_jitter`` the window length is drawn from every size that
fits, not only the smallest: with tight windows the words always sit 2–10 frames from the window's edges, and a
network trained so learns to emit letters near the *edges* of whole clips (where GRID speakers are silent). Clips are
normalised over the whole clip before windowing, exactly as at inference. Half the clips are mirrored left-right.
"""

import math

import keras
import numpy as np

from lipnet_core.losses import padded_labels
from lipnet_core.normalise import normalise_clip

WINDOW_LENGTHS = (40, 48, 56, 64, 75)


def fit_length(model_input: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad (zero is the clip mean after normalisation) a (T, ...) array to ``length`` frames."""
    if len(model_input) >= length:
        return model_input[:length]
    padding = np.zeros((length - len(model_input),) + model_input.shape[1:], dtype=model_input.dtype)
    return np.concatenate([model_input, padding])








def word_segments(word_spans) -> list[tuple[int, int]]:
    """Each word's frames (start, end exclusive) cut so that no two overlap: the alignment's frame rounding can give
    a word its neighbour's first frame."""
    next_starts = [start for start, _ in word_spans[1:]] + [word_spans[-1][1]]
    return [(start, min(end, next_start)) for (start, end), next_start in zip(word_spans, next_starts)]




def mirrored_if(model_input: np.ndarray, mirrored: bool) -> np.ndarray:
    """(T, H, W, 1) → the same, flipped left to right when ``mirrored``."""
    return model_input[:, :, ::-1] if mirrored else model_input




class TrainingBatches(keras.utils.PyDataset):
    """Shuffled, augmented batches: x (B, L, 46, 140, 1) float32, y (B, 48) int32."""

    def __init__(self, packed_clips, batch_size=2, seed=0, full_clip_fraction=0.25, margin=(2, 10), flip=True,
                 wide_jitter=True, **kwargs):
        super().__init__(**kwargs)
        self.clips = list(packed_clips)
        self.batch_size = batch_size
        self.seed = seed
        self.full_clip_fraction = full_clip_fraction
        self.margin = margin
        self.flip = flip
        self.wide_jitter = wide_jitter
        self.epoch = 0
        self._order = self._order_for(0)

    def _order_for(self, epoch):
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.clips))

    def set_epoch(self, epoch):
        """Shuffle as for ``epoch``; the order depends only on (seed, epoch), so a resumed run sees the same data."""
        self.epoch = epoch
        self._order = self._order_for(epoch)

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def __len__(self):
        return math.ceil(len(self.clips) / self.batch_size)

    def __getitem__(self, step):
        rng = np.random.default_rng([self.seed, self.epoch, step])
        batch = [self.clips[i] for i in self._order[step * self.batch_size : (step + 1) * self.batch_size]]
        clips = [(normalise_clip(clip.mouth_frames), clip.speech_start_frame, clip.speech_end_frame) for clip in batch]
        if rng.random() < self.full_clip_fraction:
            window = max(WINDOW_LENGTHS)
        else:
            spans = [min(end, len(model_input)) - start for model_input, start, end in clips]
            needed = max(spans) + 2 * self.margin[0]
            if self.wide_jitter:  # any length that fits, so the silence before the words varies from 2 to ~35 frames
                window = int(
                    rng.choice([length for length in WINDOW_LENGTHS if length >= needed] or [max(WINDOW_LENGTHS)])
                )
            else:
                needed += 2 * int(rng.integers(0, self.margin[1] - self.margin[0] + 1))
                window = next((length for length in WINDOW_LENGTHS if length >= needed), max(WINDOW_LENGTHS))
        inputs = []
        for model_input, speech_start, speech_end in clips:
            num_frames = len(model_input)
            if window < num_frames:
                end = min(speech_end, num_frames)
                low, high = max(0, end - window), min(speech_start, num_frames - window)
                start = int(rng.integers(low, max(low, high) + 1))
                model_input = model_input[start : start + window]
            inputs.append(mirrored_if(fit_length(model_input, window), self.flip and rng.random() < 0.5))
        return np.stack(inputs), padded_labels([clip.sentence for clip in batch])


def whole_clip_batches(packed_clips, batch_size=8):
    """Validation / evaluation batches of whole, unaugmented clips: yields (clips, x, y)."""
    clips = list(packed_clips)
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size]
        length = max(len(clip.mouth_frames) for clip in batch)
        inputs = np.stack([fit_length(normalise_clip(clip.mouth_frames), length) for clip in batch])
        yield batch, inputs, padded_labels([clip.sentence for clip in batch])
