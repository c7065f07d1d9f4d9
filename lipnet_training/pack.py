"""A compact training pack: the GRID-cropped uint8 mouth frames and labels of every clip in one ``.npz``.

Decoding and cropping every clip again for each run would be wasted work, so the pack is a cache (rebuilt when
missing), and it is what travels to a GPU machine instead of the raw clips. Frames are stored *before*
normalisation, exactly as :func:`lipnet_core.preprocessing.mouth_frames_of` returns them, so the loader feeds the
model the same input as inference does.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipnet_core.alignments import load_alignment
from lipnet_core.dataset import DEFAULT_SPEAKER, list_clips
from lipnet_core.errors import DataDirError
from lipnet_core.paths import replace_whole
from lipnet_core.preprocessing import mouth_frames_of
from lipnet_core.video import read_clip


@dataclass(frozen=True)
class PackedClip:
    clip_id: str
    mouth_frames: np.ndarray  # T x 46 x 140, uint8
    sentence: str
    speech_start_frame: int
    speech_end_frame: int
    word_spans: tuple[tuple[int, int], ...] = ()  # each word's frames, end exclusive; empty in packs built before them


def build_training_pack(data_directory, pack_path, progress=None, speaker: str = DEFAULT_SPEAKER,
                        crop: str = "grid") -> Path:
    """Read every aligned clip of ``speaker`` (the windows around the words need the alignments) with ``crop`` and
    write the pack (compressed npz). Speaker 1 takes the fixed ``grid`` crop; any other speaker needs ``detected``."""
    clips = [clip for clip in list_clips(data_directory, speaker) if clip.alignment_path is not None]
    if not clips:
        raise DataDirError(f"No clip of {speaker} has an alignment; training needs the words' timings.")
    crops, lengths, sentences, spans, word_spans = [], [], [], [], []
    for clip in progress(clips) if progress else clips:
        _, mouth_frames = mouth_frames_of(read_clip(clip.video_path), crop=crop)
        alignment = load_alignment(clip.alignment_path)
        crops.append(mouth_frames)
        lengths.append(len(mouth_frames))
        sentences.append(alignment.sentence)
        spans.append((alignment.speech_start_frame, alignment.speech_end_frame))
        word_spans.extend(alignment.word_spans)
    pack_path = Path(pack_path)
    pack_path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "clip_ids": np.array([clip.clip_id for clip in clips]),
        "mouth_frames": np.concatenate(crops),
        "lengths": np.array(lengths, dtype=np.int32),
        "sentences": np.array(sentences),
        "speech_spans": np.array(spans, dtype=np.int32),
        "word_spans": np.array(word_spans, dtype=np.int32).reshape(-1, 2),  # one row per word, clip after clip
    }

    def write_pack(temporary):
        with temporary.open("wb") as handle:  # a file object, so numpy adds no ".npz" to a path without one
            np.savez_compressed(handle, **arrays)

    replace_whole(pack_path, write_pack)
    return pack_path


def word_spans_by_clip(flat_spans: np.ndarray, sentences) -> list[tuple[tuple[int, int], ...]]:
    """Split the pack's (words, 2) array of word spans into one tuple per clip (as many as its sentence has words)."""
    offsets = np.concatenate([[0], np.cumsum([len(str(sentence).split()) for sentence in sentences])])
    spans = [tuple(map(int, span)) for span in flat_spans]
    return [tuple(spans[start:end]) for start, end in zip(offsets[:-1], offsets[1:])]


def load_training_pack(pack_path) -> dict[str, PackedClip]:
    with np.load(pack_path) as pack:
        offsets = np.concatenate([[0], np.cumsum(pack["lengths"])])
        frames = pack["mouth_frames"]
        sentences = [str(sentence) for sentence in pack["sentences"]]
        if "word_spans" in pack.files:
            word_spans = word_spans_by_clip(pack["word_spans"], sentences)
        else:
            word_spans = [()] * len(sentences)
        return {
            str(clip_id): PackedClip(
                clip_id=str(clip_id),
                mouth_frames=frames[offsets[index] : offsets[index + 1]],
                sentence=sentences[index],
                speech_start_frame=int(pack["speech_spans"][index][0]),
                speech_end_frame=int(pack["speech_spans"][index][1]),
                word_spans=word_spans[index],
            )
            for index, clip_id in enumerate(pack["clip_ids"])
        }
