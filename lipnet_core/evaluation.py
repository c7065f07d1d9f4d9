"""Score a :class:`~lipnet_core.reader.LipReader` on GRID clips that have alignments: WER, CER and sentence
accuracy per decoder, with every clip's reading kept so the figures can be checked."""

import datetime
from pathlib import Path

from lipnet_core.dataset import GridClip
from lipnet_core.metrics import corpus_scores
from lipnet_core.options import DECODERS
from lipnet_core.paths import display_path, file_sha256


def evaluate_clips(reader, clips: list[GridClip], decoders=DECODERS, progress=None, described_as: str = "",
                   crop: str = "grid", precomputed=None) -> dict:
    """Read every clip with every decoder and score each decoder over all of them (``crop``: see
    :func:`lipnet_core.preprocessing.locate_mouth`; the published figures use the fixed GRID crop of speaker 1).

    ``precomputed``: :class:`~lipnet_core.precomputed.PrecomputedReadings` of the reader's weights; clips found in it
    (same bytes, same crop) are decoded from the stored network output instead of running the network again."""
    references, hypotheses, per_clip = [], {name: [] for name in decoders}, []
    stored = precomputed if precomputed is not None and precomputed.crop == crop else None
    from_storage = 0
    for clip in progress(clips) if progress else clips:
        truth = clip.sentence()
        class_probabilities = stored.class_probabilities(clip.clip_id, clip.video_path) if stored else None
        from_storage += class_probabilities is not None
        reading = reader.read(clip.video_path, crop=crop, decoder=decoders[0], decoders=decoders,
                              class_probabilities=class_probabilities)
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
        "read_mirrored": reader.read_mirrored,
        "crop": crop,
        "speakers": sorted({clip.speaker for clip in clips}),
        "date": datetime.date.today().isoformat(),
        "clips_from_precomputed_readings": from_storage,
        "per_clip": per_clip,
    }
