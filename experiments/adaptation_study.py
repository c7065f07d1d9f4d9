"""How well does `adapt` teach the network a new face, measured on clips the adaptation never saw?

k-fold over one speaker's clips (GRID speaker 4 has 30, without alignments): each fold's clips are read by a network
adapted on the other folds' clips (or on the first N of them, for the learning curve), with the product's own
`lipnet_core.adaptation.adapt` and recipe. Every held-out reading of every fold is pooled into one WER. The crops are
made once (the face detector on every clip); each adaptation's seconds are its own (features, training, choosing).
Each held-out clip is read as the adapted weights file says (with its mirror image, averaged) and, for comparison,
once without the mirror image (``read_once``).

    python experiments/adaptation_study.py --data-dir ../shared/grid --speaker s4 --sizes 5 10 20 24 \\
        --out models/adaptation_study.json

``--add-to FILE`` adds the sizes measured to an earlier run's figures (same speaker, clips and recipe, refused
otherwise; each row records its own number of folds): the learning curve can be measured in several sittings, and
its last point with more folds (10 folds leave 27 clips to adapt on, nearer the 30 that `adapt` gets in use).
``--probabilities FILE.npz`` keeps every held-out reading's per-frame probabilities, to compare decoders offline.
"""

import argparse
import json
import tempfile
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from lipnet_core.adaptation import ADAPTED_WEIGHTS, AdaptationRecipe, adapt, load_adaptation_clips
from lipnet_core.dataset import list_clips
from lipnet_core.decoding import ctc_decode_batch
from lipnet_core.grammar import grid_grammar_decode
from lipnet_core.machine import cpu_description
from lipnet_core.metrics import corpus_scores
from lipnet_core.paths import DEFAULT_WEIGHTS
from lipnet_core.reader import LipReader


def folds_of(count: int, k: int, seed: int = 0) -> list[list[int]]:
    order = np.random.default_rng(seed).permutation(count)
    return [sorted(order[fold::k].tolist()) for fold in range(k)]


def readings(reader: LipReader, clips, kept: list | None = None) -> tuple[list[str], list[str]]:
    """(greedy, grid) readings of each clip's prepared mouth frames; each clip's (T, 41) probabilities are appended
    to ``kept`` when given."""
    greedy, grid = [], []
    for clip in clips:
        probabilities = reader.probabilities(clip.model_input)
        if kept is not None:
            kept.append(probabilities)
        greedy.append(ctc_decode_batch(probabilities[np.newaxis])[0].text)
        grid.append(grid_grammar_decode(probabilities).text)
    return greedy, grid


def scores(truths, greedy, grid) -> dict:
    greedy_scores, grid_scores = corpus_scores(truths, greedy), corpus_scores(truths, grid)
    return {"grid_wer": grid_scores["wer"], "grid_cer": grid_scores["cer"], "grid_sentences": grid_scores[
        "sentence_accuracy"], "greedy_wer": greedy_scores["wer"], "greedy_cer": greedy_scores["cer"]}


def added_to(earlier: dict, later: dict) -> dict:
    """``later``'s rows added to ``earlier``'s (a size measured again replaces the earlier row), the summary remade;
    both must be the same study: speaker, clips and recipe (each row keeps its own number of folds)."""
    for key in ("speaker", "clips", "recipe"):
        if earlier[key] != later[key]:
            raise ValueError(f"Not the same study: {key} {earlier[key]!r} against {later[key]!r}.")
    sizes = {row["clips"] for row in later["rows"]}
    rows = [{"folds": earlier.get("folds"), **row} for row in earlier["rows"] if row["clips"] not in sizes]
    rows = sorted(rows + later["rows"], key=lambda row: row["clips"])
    machines = list(dict.fromkeys(filter(None, (earlier.get("machine"), later.get("machine")))))
    return {**later, "what": what_of(later["speaker"], rows), "summary": summary_of(rows, later["published_network"]),
            "folds": sorted({row["folds"] for row in rows}), "rows": rows,
            "features_in_bfloat16": earlier["features_in_bfloat16"] and later["features_in_bfloat16"],
            "machine": " and ".join(machines) or None}


def what_of(speaker: str, rows: list[dict]) -> str:
    by_folds = {}
    for row in rows:
        by_folds.setdefault(row["folds"], []).append(str(row["clips"]))
    if len(by_folds) == 1:
        folds = f"{next(iter(by_folds))}-fold"
    else:
        folds = ", ".join(f"{k}-fold for {', '.join(sizes)} clips" for k, sizes in sorted(by_folds.items()))
    return (f"GRID speaker {speaker.lstrip('s')}, {folds}: each clip read by a network adapted on other clips of the "
            f"speaker only")


def summary_of(rows: list[dict], published: dict) -> str:
    best = max(rows, key=lambda row: row["clips"])  # the most clips to adapt on
    return (f"GRID-grammar WER {best['grid_wer']:.1%} over {best['held_out_readings']} held-out readings after "
            f"adapting on {best['clips']} clips ({best['folds']}-fold; the published network: "
            f"{published['grid_wer']:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--speaker", default="s4")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[24], help="adaptation clips per fold (≤ the rest)")
    parser.add_argument("--out", help="write the figures here (JSON)")
    parser.add_argument("--add-to", help="an earlier run's figures (JSON) to add these sizes to; written to --out")
    parser.add_argument("--probabilities", help="also keep every held-out reading's per-frame probabilities here "
                        "(.npz: SIZE_mirrored, SIZE_once, SIZE_truths, SIZE_ids), to compare decoders offline")
    for field in fields(AdaptationRecipe):  # --epochs, --learning-rate, … override the product's recipe
        option = f"--{field.name.replace('_', '-')}"
        if isinstance(field.default, bool):
            parser.add_argument(option, action=argparse.BooleanOptionalAction, default=None)
        else:
            parser.add_argument(option, type=type(field.default), default=None)
    arguments = parser.parse_args()
    given = {field.name: getattr(arguments, field.name) for field in fields(AdaptationRecipe)}
    recipe = AdaptationRecipe(**{name: value for name, value in given.items() if value is not None})

    grid_clips = list_clips(arguments.data_dir, arguments.speaker)
    started = time.perf_counter()
    clips = load_adaptation_clips([(clip.video_path, clip.sentence(), clip.clip_id) for clip in grid_clips])
    crop_seconds = time.perf_counter() - started
    truths = [clip.sentence for clip in clips]
    base = scores(truths, *readings(LipReader(), clips))
    print(f"{len(clips)} clips of {arguments.speaker} cropped in {crop_seconds:.1f} s; published network: grid WER "
          f"{base['grid_wer']:.1%}, greedy WER {base['greedy_wer']:.1%}", flush=True)
    rows, in_bfloat16, kept = [], [], {}
    for size in arguments.sizes:
        held_truths, greedy, grid, seconds, epochs = [], [], [], [], []
        kept_mirrored, kept_once, held_ids = [], [], []
        single_greedy, single_grid = [], []  # the same networks reading each clip once, without its mirror image
        for fold, test_indices in enumerate(folds_of(len(clips), arguments.folds)):
            rest = [index for index in range(len(clips)) if index not in test_indices]
            chosen = sorted(np.random.default_rng([fold, size]).choice(rest, min(size, len(rest)), replace=False))
            with tempfile.TemporaryDirectory(prefix="lipnet-study-") as out_dir:
                report = adapt([clips[index] for index in chosen], out_dir, recipe, DEFAULT_WEIGHTS)
                reader = LipReader(f"{out_dir}/{ADAPTED_WEIGHTS}")
                fold_greedy, fold_grid = readings(reader, [clips[index] for index in test_indices], kept_mirrored)
                reader.read_mirrored = False
                fold_single = readings(reader, [clips[index] for index in test_indices], kept_once)
            held_ids += [clips[index].name for index in test_indices]
            single_greedy += fold_single[0]
            single_grid += fold_single[1]
            held_truths += [truths[index] for index in test_indices]
            greedy += fold_greedy
            grid += fold_grid
            seconds.append(report["seconds"]["total"])
            epochs.append(report["kept_epoch"])
            in_bfloat16.append(report["features_in_bfloat16"])
            print(f"  {size} clips, fold {fold}: {report['seconds']['total']:.0f} s, epoch {report['kept_epoch']}",
                  flush=True)
        row = {"clips": size, "folds": arguments.folds, "held_out_readings": len(held_truths),
               **scores(held_truths, greedy, grid),
               "adapt_seconds_mean": float(np.mean(seconds)), "adapt_seconds_max": float(np.max(seconds)),
               "kept_epochs": epochs, "read_once": scores(held_truths, single_greedy, single_grid)}
        rows.append(row)
        kept.update({f"{size}_mirrored": np.stack(kept_mirrored), f"{size}_once": np.stack(kept_once),
                     f"{size}_truths": np.array(held_truths), f"{size}_ids": np.array(held_ids)})
        if arguments.probabilities:
            np.savez_compressed(arguments.probabilities, **kept)
        print(f"{size} clips: grid WER {row['grid_wer']:.1%}, greedy WER {row['greedy_wer']:.1%}, greedy CER "
              f"{row['greedy_cer']:.1%}, {row['adapt_seconds_mean']:.0f} s per adaptation (read once, without the "
              f"mirror image: grid WER {row['read_once']['grid_wer']:.1%})", flush=True)
    result = {
        "what": what_of(arguments.speaker, rows), "summary": summary_of(rows, base),
        "speaker": arguments.speaker, "clips": len(clips), "folds": [arguments.folds],
        "crop": "detected", "crop_seconds_all_clips": round(crop_seconds, 1), "recipe": asdict(recipe),
        "features_in_bfloat16": all(in_bfloat16), "machine": cpu_description(), "published_network": base,
        "rows": rows,
    }
    if arguments.add_to:
        result = added_to(json.loads(Path(arguments.add_to).read_text()), result)
    if arguments.out:
        with open(arguments.out, "w") as handle:
            handle.write(json.dumps(result, indent=1) + "\n")
    print(result["summary"])


if __name__ == "__main__":
    main()
