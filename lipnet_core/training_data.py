"""Batches for training and validation, as a ``keras.utils.PyDataset`` (no tf.data, so it runs under JAX too).

Training batches are windows of each clip around its spoken words (LipNet-style temporal jitter): GRID clips are
3 s but the words take about 37 frames of the 75, and the network's cost is linear in frames, so a window with a
random margin of silence halves the cost of a step. Window lengths snap to a few sizes (``WINDOW_LENGTHS``) so
the compiled step is traced a handful of times; a fraction of batches use the whole clip so the network keeps
seeing the long silences it meets at inference. With ``wide_jitter`` (the default since epoch 9 of the first run)
the window length is drawn from every size that fits, not only the smallest: with tight windows the words always sat
2–10 frames from the window's edges, and after 8 epochs the network emitted letters near the *edges* of whole clips
(where GRID speakers are silent), i.e. it had learnt the edge distance as a cue. Clips are normalised over the
whole clip before windowing, exactly as at inference. Half the clips are mirrored left-right.

Two optional augmentations fight over-fitting to the 765 training clips of one speaker (off by default, so older
recipes see the batches they always saw): ``frame_jitter`` drops and repeats single frames, each with that
probability (LipNet's temporal jitter: the same words spoken a little faster or slower), and ``shift_pixels`` moves
the whole crop by up to that many pixels each way (a mouth not exactly where the fixed GRID crop expects it).

``word_clips`` adds LipNet's other augmentation (Assael et al. 2016, section 4.1): single words cut from the clips
by their alignment, as extra training instances. With ``word_clips=f`` an epoch gets ``f`` word batches for every
batch of clips, shuffled among them; each is a short window (``WORD_WINDOW_LENGTHS``) of one word of each of its
clips, the still frames at the word's edges repeated to fill it, and labelled with that word alone, so the network
has to name every word on its own (GRID's letter, which the clip-trained network reads least well, is one word in
six). Word batches are cheap: on 2-core AMD EPYCs of one family, an epoch with one per batch of clips took
1195–1293 s, against 947–1063 s without (docs/training.md).

``splice_words`` makes new sentences out of the training clips: each word of a clip is replaced, with that
probability, by the word in the same place of another training clip, cut by the alignments (the silence and pauses
of the clip stay its own). GRID sentences pick each word independently, so nearly every training clip's five other
words are a combination no other clip has, and a bidirectional network can learn a clip's letter from them instead of
from the lips; the splices take that shortcut away. They did not help here: the clips are not registered to each other,
so every splice is a jump the network never meets at inference (epochs 120–121 and the seams' sizes in
docs/training.md).
"""

import math

import keras
import numpy as np

from lipnet_core.errors import LipNetError
from lipnet_core.normalise import normalise_clip
from lipnet_core.vocabulary import text_to_ids

WINDOW_LENGTHS = (40, 48, 56, 64, 75)
WORD_WINDOW_LENGTHS = (16, 24, 32)
WORD_MARGIN_FRAMES = 2
MAX_LABEL_LENGTH = 48


def pad_labels(sentences) -> np.ndarray:
    """(B, 48) int32 label ids padded with 0."""
    labels = np.zeros((len(sentences), MAX_LABEL_LENGTH), dtype=np.int32)
    for row, sentence in enumerate(sentences):
        ids = text_to_ids(sentence)
        if len(ids) > MAX_LABEL_LENGTH:
            raise ValueError(f"Sentence longer than {MAX_LABEL_LENGTH} characters: {sentence!r}")
        labels[row, : len(ids)] = ids
    return labels


def fit_length(model_input: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad (zero is the clip mean after normalisation) a (T, ...) array to ``length`` frames."""
    if len(model_input) >= length:
        return model_input[:length]
    padding = np.zeros((length - len(model_input),) + model_input.shape[1:], dtype=model_input.dtype)
    return np.concatenate([model_input, padding])


def pad_with_edges(model_input: np.ndarray, length: int, before: int) -> np.ndarray:
    """A (T, ...) array grown to ``length`` frames by repeating its first frame ``before`` times and its last frame
    for the rest (a still mouth, like the silence around a word, where zeros would be a blank grey no clip has)."""
    after = length - len(model_input) - before
    return np.pad(model_input, [(before, after)] + [(0, 0)] * (model_input.ndim - 1), mode="edge")


def jittered_frame_indices(num_frames: int, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Which source frame each output frame shows: every frame is dropped with ``probability``, else repeated with
    ``probability``, else kept once. (n,) int, non-decreasing, so the words keep their order."""
    draws = rng.random(num_frames)
    repeats = np.where(draws < probability, 0, np.where(draws < 2 * probability, 2, 1))
    return np.repeat(np.arange(num_frames), repeats)


def stretched_speech(num_frames: int, word_spans, factor: float) -> tuple[np.ndarray, tuple]:
    """The speech of a ``num_frames`` clip played ``factor`` times as long (speed perturbation), about its centre and
    kept inside the clip (``factor`` is capped so that it fits). Returns which source frame each output frame shows
    ((num_frames,) int, nearest frame, non-decreasing) and the words' spans in the output frames."""
    start, end = word_spans[0][0], word_spans[-1][1]
    factor = min(factor, num_frames / max(end - start, 1))
    centre = (start + end) / 2

    def placed(frame: float) -> float:
        return centre + (frame - centre) * factor

    offset = max(0.0, -placed(start)) + min(0.0, num_frames - placed(end))
    sources = np.rint(centre + (np.arange(num_frames) - offset - centre) / factor)
    spans = tuple(
        tuple(int(np.clip(round(placed(frame) + offset), 0, num_frames)) for frame in span) for span in word_spans
    )
    return np.clip(sources, 0, num_frames - 1).astype(int), spans


def word_segments(word_spans) -> list[tuple[int, int]]:
    """Each word's frames (start, end exclusive) cut so that no two overlap: the alignment's frame rounding can give
    a word its neighbour's first frame."""
    next_starts = [start for start, _ in word_spans[1:]] + [word_spans[-1][1]]
    return [(start, min(end, next_start)) for (start, end), next_start in zip(word_spans, next_starts)]


def splice_words(model_input: np.ndarray, word_spans, replacements: dict) -> tuple[np.ndarray, tuple]:
    """``model_input`` (T, ...) with the words at the positions of ``replacements`` ({position: (donor input, donor
    word spans)}) swapped for the donors' words at those positions; the frames between and around the words stay.
    Returns the new input and its word spans."""
    pieces, spans, cursor, length = [], [], 0, 0
    for position, (start, end) in enumerate(word_segments(word_spans)):
        if position in replacements:
            donor_input, donor_spans = replacements[position]
            donor_start, donor_end = word_segments(donor_spans)[position]
            word = donor_input[donor_start:donor_end]
        else:
            word = model_input[start:end]
        length += start - cursor  # the frames before this word, which stay
        spans.append((length, length + len(word)))
        length += len(word)
        pieces += [model_input[cursor:start], word]
        cursor = end
    pieces.append(model_input[cursor:])
    return np.concatenate(pieces), tuple(spans)


def mirrored_if(model_input: np.ndarray, mirrored: bool) -> np.ndarray:
    """(T, H, W, 1) → the same, flipped left to right when ``mirrored``."""
    return model_input[:, :, ::-1] if mirrored else model_input


def shift_frames(model_input: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """(T, H, W, 1) → the same shape with the picture moved down by ``rows`` and right by ``columns`` pixels (negative
    moves up / left); the edge pixels fill the strip that is uncovered."""
    margin = max(abs(rows), abs(columns))
    if margin == 0:
        return model_input
    height, width = model_input.shape[1:3]
    padded = np.pad(model_input, ((0, 0), (margin, margin), (margin, margin), (0, 0)), mode="edge")
    return padded[:, margin - rows : margin - rows + height, margin - columns : margin - columns + width]


class TrainingBatches(keras.utils.PyDataset):
    """Shuffled, augmented batches: x (B, L, 46, 140, 1) float32, y (B, 48) int32."""

    def __init__(
        self, packed_clips, batch_size=2, seed=0, full_clip_fraction=0.25, margin=(2, 10), flip=True, wide_jitter=True,
        frame_jitter=0.0, shift_pixels=0, word_clips=0.0, splice_words=0.0, **kwargs,
    ):
        super().__init__(**kwargs)
        self.clips = list(packed_clips)
        self.batch_size = batch_size
        self.seed = seed
        self.full_clip_fraction = full_clip_fraction
        self.margin = margin
        self.flip = flip
        self.wide_jitter = wide_jitter
        self.frame_jitter = frame_jitter
        self.shift_pixels = shift_pixels
        self.word_clips = word_clips
        self.splice_words = splice_words
        self.clip_batches = math.ceil(len(self.clips) / batch_size)
        self.word_batches = math.ceil(word_clips * self.clip_batches)
        self.clips_with_words = [clip for clip in self.clips if clip.word_spans]
        self.donors_by_word_count = {}
        for clip in self.clips_with_words:
            self.donors_by_word_count.setdefault(len(clip.word_spans), []).append(clip)
        if (self.word_batches or splice_words) and not self.clips_with_words:
            raise LipNetError(
                "Word clips and spliced words need the words' frames, which this training pack predates: delete the "
                "pack (by default cache/training_pack.npz under --out) and train again to rebuild it."
            )
        self.epoch = 0
        self._order, self._steps = self._orders_for(0)

    def _orders_for(self, epoch):
        """The clips' order and the steps' order (clip batches first, then word batches, shuffled together; with no
        word batches the steps stay in order, so older recipes see the batches they always saw)."""
        rng = np.random.default_rng([self.seed, epoch])
        clip_order = rng.permutation(len(self.clips))
        steps = np.arange(self.clip_batches + self.word_batches)
        if self.word_batches:
            steps = np.random.default_rng([self.seed, epoch, 1]).permutation(steps)
        return clip_order, steps

    def set_epoch(self, epoch):
        """Shuffle as for ``epoch``; the order depends only on (seed, epoch), so a resumed run sees the same data."""
        self.epoch = epoch
        self._order, self._steps = self._orders_for(epoch)

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def __len__(self):
        return self.clip_batches + self.word_batches

    def __getitem__(self, step):
        index = int(self._steps[step])
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if index >= self.clip_batches:
            return self._word_batch(rng)
        batch = [self.clips[i] for i in self._order[index * self.batch_size : (index + 1) * self.batch_size]]
        sources = [self._spliced(clip, rng) for clip in batch]
        clips = [self._timed(model_input, rng, span) for model_input, span, _ in sources]
        if rng.random() < self.full_clip_fraction:
            window = max(WINDOW_LENGTHS)
        else:
            spans = [min(end, len(model_input)) - start for model_input, start, end in clips]
            needed = max(spans) + 2 * self.margin[0]
            if self.wide_jitter:  # any length that fits, so the silence before the words varies from 2 to ~35 frames
                window = int(rng.choice([length for length in WINDOW_LENGTHS if length >= needed] or [max(WINDOW_LENGTHS)]))
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
            inputs.append(self._moved(fit_length(model_input, window), rng))
        return np.stack(inputs), pad_labels([sentence for _, _, sentence in sources])

    def _spliced(self, clip, rng):
        """The clip normalised, with each word swapped (with probability ``splice_words``) for the same word position
        of a clip with as many words: (T×46×140×1 input, (speech start, end), sentence). Without splicing the rng is
        not drawn, so older recipes see the batches they always saw."""
        model_input = normalise_clip(clip.mouth_frames)
        speech = (clip.speech_start_frame, clip.speech_end_frame)
        if not (self.splice_words and clip.word_spans):
            return model_input, speech, clip.sentence
        words = clip.sentence.split()
        donors = self.donors_by_word_count[len(clip.word_spans)]
        replacements, normalised = {}, {}
        for position in range(len(words)):
            if rng.random() < self.splice_words:
                donor = donors[int(rng.integers(len(donors)))]
                if donor.clip_id not in normalised:  # one donor may give several words
                    normalised[donor.clip_id] = normalise_clip(donor.mouth_frames)
                replacements[position] = (normalised[donor.clip_id], donor.word_spans)
                words[position] = donor.sentence.split()[position]
        if not replacements:
            return model_input, speech, clip.sentence
        model_input, spans = splice_words(model_input, clip.word_spans, replacements)
        return model_input, (spans[0][0], spans[-1][1]), " ".join(words)

    def _word_batch(self, rng):
        """One word of each of ``batch_size`` clips drawn at random, with up to ``WORD_MARGIN_FRAMES`` frames of its
        neighbours each side, placed at a random offset in the shortest word window that holds them all."""
        with_words = self.clips_with_words
        chosen = rng.choice(len(with_words), size=min(self.batch_size, len(with_words)), replace=False)
        batch = [with_words[i] for i in chosen]
        words, cuts = [], []
        for clip in batch:
            word = int(rng.integers(len(clip.word_spans)))
            model_input, start, end = self._timed(normalise_clip(clip.mouth_frames), rng, clip.word_spans[word])
            start = max(0, start - int(rng.integers(0, WORD_MARGIN_FRAMES + 1)))
            end = min(len(model_input), end + int(rng.integers(0, WORD_MARGIN_FRAMES + 1)))
            cuts.append(model_input[start : max(end, start + 1)])
            words.append(clip.sentence.split()[word])
        longest = max(len(cut) for cut in cuts)
        window = next((length for length in WORD_WINDOW_LENGTHS if length >= longest), max(WORD_WINDOW_LENGTHS))
        cuts = [cut[:window] for cut in cuts]
        inputs = [
            self._moved(pad_with_edges(cut, window, before=int(rng.integers(window - len(cut) + 1))), rng) for cut in cuts
        ]
        return np.stack(inputs), pad_labels(words)

    def _moved(self, model_input, rng):
        """Mirrored (half the time) and shifted, as the recipe asks."""
        if self.flip and rng.random() < 0.5:
            model_input = mirrored_if(model_input, True)
        if self.shift_pixels:
            rows, columns = rng.integers(-self.shift_pixels, self.shift_pixels + 1, size=2)
            model_input = shift_frames(model_input, int(rows), int(columns))
        return model_input

    def _timed(self, model_input, rng, span):
        """A clip's input, normalised over all its frames as at inference, frame-jittered, with ``span`` (start and
        end frames: its speech, or one word) moved to the frames it now occupies: (T×46×140×1 input, start, end)."""
        start, end = span
        if self.frame_jitter:
            indices = jittered_frame_indices(len(model_input), self.frame_jitter, rng)
            start, end = (int(frame) for frame in np.searchsorted(indices, [start, end]))
            model_input = model_input[indices]
        return model_input, start, end


def whole_clip_batches(packed_clips, batch_size=8):
    """Validation / evaluation batches of whole, unaugmented clips: yields (clips, x, y)."""
    clips = list(packed_clips)
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size]
        length = max(len(clip.mouth_frames) for clip in batch)
        inputs = np.stack([fit_length(normalise_clip(clip.mouth_frames), length) for clip in batch])
        yield batch, inputs, pad_labels([clip.sentence for clip in batch])
