"""Score a :class:`~lipnet_core.reader.LipReader` on GRID clips that have alignments: WER, CER and sentence
accuracy per decoder, with every clip's reading kept so the figures can be checked."""

import datetime
from pathlib import Path

from lipnet_core.dataset import GridClip
from lipnet_core.metrics import corpus_scores
from lipnet_core.options import DECODERS
from lipnet_core.paths import display_path, file_sha256


def evaluate_clips(reader, clips: list[GridClip], decoders=DECODERS, progress=None, described_as: str = "",
                   crop: str = "grid") -> dict:
    """Read every clip with every decoder and score each decoder over all of them (``crop``: see
    :func:`lipnet_core.preprocessing.locate_mouth`; the published figures use the fixed GRID crop of speaker 1)."""
    references, hypotheses, per_clip = [], {name: [] for name in decoders}, []
    for clip in progress(clips) if progress else clips:
        truth = clip.sentence()
        reading = reader.read(clip.video_path, crop=crop, decoder=decoders[0], decoders=decoders)
        references.append(truth)
        row = {"clip": clip.clip_id, "truth": truth}
        for name in decoders:
            hypotheses[name].append(reading.decodings[name].text)
            row[name] = reading.decodings[name].text
        per_clip.append(row)
    scores = {name: corpus_scores(references, hypotheses[name]) for name in decoders}
    weights = Path(reader.weights_path) if reader.weights_path else None
    return {
        "evaluated_on": described_as or f"{len(clips)} clips",
        "clips": len(clips),
        "decoders": {name: {key: scores[name][key] for key in ("wer", "cer", "sentence_accuracy")} for name in decoders},
        "weights": display_path(weights) if weights else None,
        "weights_sha256": file_sha256(weights) if weights and weights.is_file() else None,
        "trained_weights": reader.trained,
        "crop": crop,
        "speakers": sorted({clip.speaker for clip in clips}),
        "date": datetime.date.today().isoformat(),
        "per_clip": per_clip,
    }
