"""``python -m lipnet_training train``: the reference recipe, resumable, in backend-agnostic Keras 3.

Recipe (reference notebooks): Adam 1e-4, constant for 30 epochs then ×exp(−0.1) per epoch, CTC loss with blank 40,
batch 2, a checkpoint every epoch, early stopping on validation loss. Every epoch writes ``state/`` (model and
optimiser, to resume), a row of ``history.csv``, and, when validation loss improves, the inference weights. Within
an epoch, ``state/`` is also written every ``checkpoint_seconds``: on a 2-core CPU an epoch can take most of an hour
(docs/training.md), and machines that may be taken back should lose minutes, not the epoch.
"""

import json
import math
import platform
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import keras
import numpy as np

from lipnet_core.dataset import DEFAULT_SPEAKER, list_clips, load_split, save_split, split_clip_ids
from lipnet_core.decoding import ctc_decode_batch
from lipnet_core.losses import ctc_loss
from lipnet_core.metrics import corpus_scores
from lipnet_core.model import build_model, use_compiled_step_for
from lipnet_core.paths import HISTORY_NAME, replace_whole
from lipnet_training.batches import TrainingBatches, whole_clip_batches
from lipnet_training.history import append_history, state_from_history

STATE_MODEL = "model.keras"
STATE_FILE = "state.json"
CHECKPOINT_SECONDS = 600


@dataclass
class Recipe:
    """The settings of a run, saved as ``recipe.json`` beside its history.

    ``schedule_start_epoch`` is the number of epochs already trained when the learning-rate schedule (constant, then
    decay) began: 0 for a run from scratch. A warm restart sets it to the epochs done so far, so the rate climbs back
    to ``learning_rate`` for ``constant_epochs`` and then decays again.
    """

    epochs: int = 100
    batch_size: int = 2
    learning_rate: float = 1e-4
    constant_epochs: int = 30
    decay_per_epoch: float = 0.1
    clipnorm: float | None = None
    patience: int = 10
    mixed_precision: bool = False
    full_clip_fraction: float = 0.25
    flip: bool = True
    wide_jitter: bool = True
    steps_per_epoch: int | None = None
    seed: int = 0
    schedule_start_epoch: int = 0


def learning_rate_for(epoch: int, recipe: Recipe) -> float:
    """The reference scheduler in closed form (epochs counted from 0), so a resumed run needs no state for it."""
    decayed_epochs = max(0, epoch - recipe.schedule_start_epoch - recipe.constant_epochs + 1)
    return recipe.learning_rate * math.exp(-recipe.decay_per_epoch * decayed_epochs)


def recipe_of_run(out_dir, resume: bool, **given) -> Recipe:
    """The recipe to train with: on ``resume``, the run's own ``recipe.json`` with the ``given`` values that are not
    None put over it, so a resumed run keeps its schedule without every option typed again; else the defaults with
    ``given`` over them. Keys a saved recipe has that this version does not know are dropped."""
    path = Path(out_dir) / "recipe.json"
    saved = json.loads(path.read_text()) if resume and path.exists() else {}
    known = {field.name for field in fields(Recipe)}
    values = {key: value for key, value in saved.items() if key in known}
    values.update({key: value for key, value in given.items() if value is not None})
    return Recipe(**values)


def inference_weights_path(out_dir: Path) -> Path:
    return out_dir / "lipnet.weights.h5"


def save_inference_weights(model: keras.Model, path: Path) -> None:
    """Write the model's variables only (no optimiser state: ~34 MB, not ~102 MB) via an uncompiled twin."""
    twin = build_model(num_frames=None)
    twin.set_weights(model.get_weights())
    replace_whole(path, twin.save_weights)


class EpochReport(keras.callbacks.Callback):
    """Per epoch: validation loss / WER / CER on whole clips, a few sentences, the history row, the state to resume,
    the best weights, and early stopping. One callback so resuming restores all of it from ``state.json``."""

    def __init__(self, out_dir, validation_clips, batches, recipe, state, log=print, sentences_to_show=3):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.validation_clips = validation_clips
        self.batches = batches
        self.recipe = recipe
        self.state = state
        self.log = log
        self.sentences_to_show = sentences_to_show
        self.epoch_started = 0.0

    def on_epoch_begin(self, epoch, logs=None, seconds_done=0.0):
        """``seconds_done``: time already spent on this epoch before an interruption, so its row counts all of it."""
        self.batches.set_epoch(epoch)
        self.model.optimizer.learning_rate.assign(learning_rate_for(epoch, self.recipe))
        self.epoch_started = time.time() - seconds_done

    def validate(self):
        losses, references, hypotheses = [], [], []
        for clips, inputs, labels in whole_clip_batches(self.validation_clips):
            probabilities = self.model(inputs, training=False)
            losses.extend(keras.ops.convert_to_numpy(ctc_loss(labels, probabilities)).tolist())
            references += [clip.sentence for clip in clips]
            hypotheses += [decoded.text for decoded in ctc_decode_batch(keras.ops.convert_to_numpy(probabilities))]
        return float(np.mean(losses)), references, hypotheses

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        val_loss, references, hypotheses = self.validate()
        scores = corpus_scores(references, hypotheses)
        row = {
            "epoch": epoch + 1,
            "loss": float(logs.get("loss", float("nan"))),
            "val_loss": val_loss,
            "val_wer": scores["wer"],
            "val_cer": scores["cer"],
            "val_sentence_accuracy": scores["sentence_accuracy"],
            "lr": learning_rate_for(epoch, self.recipe),
            "seconds": time.time() - self.epoch_started,
        }
        logs.update({key: value for key, value in row.items() if key.startswith("val_")})
        append_history(self.out_dir / HISTORY_NAME, row)
        for reference, hypothesis in list(zip(references, hypotheses))[: self.sentences_to_show]:
            self.log(f"  truth: {reference}\n  read:  {hypothesis}")
        self.log(
            f"epoch {epoch + 1}: loss {row['loss']:.3f} val_loss {val_loss:.3f} "
            f"val_wer {scores['wer']:.3f} val_cer {scores['cer']:.3f} ({row['seconds']:.0f} s)"
        )
        improved = val_loss < self.state["best_val_loss"]
        if improved:
            self.state.update(best_val_loss=val_loss, best_epoch=epoch + 1, epochs_without_improvement=0)
            save_inference_weights(self.model, inference_weights_path(self.out_dir))
        else:
            self.state["epochs_without_improvement"] += 1
        self.state["completed_epochs"] = epoch + 1
        self.state["training_seconds"] = self.state.get("training_seconds", 0.0) + row["seconds"]
        save_state(self.out_dir, self.model, self.state)
        if self.state["epochs_without_improvement"] >= self.recipe.patience:
            self.log(f"early stopping: no better validation loss for {self.recipe.patience} epochs")
            self.model.stop_training = True


def state_dir(out_dir: Path) -> Path:
    """Where the last checkpoint lives: the full model with its optimiser (``STATE_MODEL``) and its bookkeeping."""
    return Path(out_dir) / "state"


def read_state(out_dir: Path) -> dict:
    """The bookkeeping of the last checkpoint (``state/state.json``)."""
    return json.loads((state_dir(out_dir) / STATE_FILE).read_text())


def epochs_trained(out_dir) -> int:
    """Epochs finished in ``out_dir``: from the checkpoint if there is one, else from ``history.csv`` (warm start)."""
    if (state_dir(out_dir) / STATE_FILE).exists():
        return read_state(out_dir)["completed_epochs"]
    return state_from_history(Path(out_dir) / HISTORY_NAME)["completed_epochs"]


def save_state(out_dir: Path, model: keras.Model, state: dict) -> None:
    """Model, then bookkeeping, each replaced whole: a kill between the two repeats at most one checkpoint's steps."""
    checkpoint_dir = state_dir(out_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    replace_whole(checkpoint_dir / STATE_MODEL, model.save)
    state_text = json.dumps(state, indent=1) + "\n"
    replace_whole(checkpoint_dir / STATE_FILE, lambda temporary: temporary.write_text(state_text))


def compile_model(model: keras.Model, recipe: Recipe) -> None:
    optimizer = keras.optimizers.Adam(recipe.learning_rate, clipnorm=recipe.clipnorm)
    model.compile(optimizer=optimizer, loss=ctc_loss)


def in_global_precision(model: keras.Model, recipe: Recipe, log=print) -> keras.Model:
    """The loaded checkpoint, rebuilt in the global dtype policy if it was saved in another one.

    A ``.keras`` file records each layer's dtype policy, so a run saved in mixed bfloat16 would load in it again and
    ``--resume --no-mixed-precision`` would change nothing, and on some CPUs float32 is the faster of the two. The
    twin gets the weights and the Adam moments and step count, so the run goes on as it would have.
    """
    wanted, saved = keras.mixed_precision.global_policy().name, model.layers[0].dtype_policy.name
    if saved == wanted:
        return model
    twin = build_model(num_frames=None)
    twin.set_weights(model.get_weights())
    compile_model(twin, recipe)
    twin.optimizer.build(twin.trainable_variables)
    for twin_variable, saved_variable in zip(twin.optimizer.variables, model.optimizer.variables, strict=True):
        twin_variable.assign(saved_variable)
    log(f"checkpoint saved in {saved}: rebuilt in {wanted} with its weights and optimiser state")
    return twin


def load_or_build(out_dir: Path, recipe: Recipe, resume: bool, log=print):
    """The model and the training state: resumed from ``state/`` when asked and present, else fresh."""
    checkpoint_dir = state_dir(out_dir)
    if resume and (checkpoint_dir / STATE_MODEL).exists():
        model = keras.models.load_model(checkpoint_dir / STATE_MODEL, custom_objects={"ctc_loss": ctc_loss})
        model = in_global_precision(model, recipe, log)
        state = read_state(out_dir)
        log(f"resuming after epoch {state['completed_epochs']} (best val_loss {state['best_val_loss']:.3f})")
    else:
        model = build_model(num_frames=None)
        state = {"completed_epochs": 0, "best_val_loss": float("inf"), "best_epoch": 0, "epochs_without_improvement": 0}
        if resume and inference_weights_path(out_dir).exists():
            model.load_weights(inference_weights_path(out_dir))
            log(f"no optimiser state in {checkpoint_dir}: warm start from {inference_weights_path(out_dir)}")
            state.update(state_from_history(out_dir / HISTORY_NAME))  # an absent history leaves the fresh counts
        compile_model(model, recipe)
    return model, state


def patience_for_schedule(state: dict, recipe: Recipe) -> dict:
    """The state with its early-stopping count reset at the first epoch of a restarted schedule, so the new phase,
    whose raised learning rate first costs some validation loss, gets the full patience to beat the best epoch."""
    if recipe.schedule_start_epoch and state["completed_epochs"] == recipe.schedule_start_epoch:
        return {**state, "epochs_without_improvement": 0}
    return state


def read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_has_bfloat16(cpuinfo: str) -> bool:
    """Whether the CPU flags in ``/proc/cpuinfo`` text include bfloat16 arithmetic (AVX-512 BF16 or AMX).

    Unknown (no flags line, e.g. not Linux) counts as yes. Without these instructions bfloat16 is emulated, many
    times slower than float32 with oneDNN, so training warns; with them it is often, not always, the faster
    (``scripts/benchmark_training.py`` tells; docs/training.md has the costs measured).
    """
    flags = {flag for line in cpuinfo.splitlines() if line.startswith("flags")
             for flag in line.split(":", 1)[1].split()}
    return not flags or bool(flags & {"avx512_bf16", "amx_bf16"})


def train(pack, out_dir, recipe: Recipe, resume=False, log=print, checkpoint_seconds=CHECKPOINT_SECONDS) -> dict:
    """Train on the split's training clips of ``pack`` ({clip_id: PackedClip}); returns the final state.

    Mid-epoch checkpoints save the model and optimiser with ``epoch_in_progress`` (steps done, their losses, seconds
    spent) in ``state.json``; a resumed run goes on from the next step. Batches depend only on (seed, epoch, step),
    so the resumed epoch sees exactly the batches the interrupted one had left.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if recipe.mixed_precision else "float32")
    if recipe.mixed_precision and keras.backend.backend() == "tensorflow" and not cpu_has_bfloat16(read_cpuinfo()):
        log("warning: this CPU has no bfloat16 instructions: mixed bfloat16 is emulated, far slower than float32")
    split_path = out_dir / "split.json"
    if not split_path.exists():
        save_split(split_clip_ids(pack), split_path)
    split = load_split(split_path)
    train_clips = [pack[clip_id] for clip_id in split["train"] if clip_id in pack]
    validation_clips = [pack[clip_id] for clip_id in split["validation"] if clip_id in pack]
    model, state = load_or_build(out_dir, recipe, resume, log)
    state = patience_for_schedule(state, recipe)
    in_progress = state.pop("epoch_in_progress", {})
    if state["completed_epochs"] >= recipe.epochs:  # recipe.json stays as the last run left it
        log(
            f"nothing to train: {out_dir} has {state['completed_epochs']} epochs and --epochs counts them all; "
            f"ask for more than {state['completed_epochs']}"
        )
        return state
    (out_dir / "recipe.json").write_text(json.dumps(asdict(recipe), indent=1) + "\n")
    batches = TrainingBatches(
        train_clips, recipe.batch_size, seed=recipe.seed, full_clip_fraction=recipe.full_clip_fraction,
        flip=recipe.flip, wide_jitter=recipe.wide_jitter,
    )
    report = EpochReport(out_dir, validation_clips, batches, recipe, state, log=log)
    log(
        f"training on {len(train_clips)} clips, validating on {len(validation_clips)}; "
        f"epochs {state['completed_epochs']}..{recipe.epochs}; {keras.backend.backend()} on {platform.machine()}"
    )
    report.set_model(model)
    steps = min(len(batches), recipe.steps_per_epoch or len(batches))
    compiled_steps = {}
    for epoch in range(state["completed_epochs"], recipe.epochs):
        report.on_epoch_begin(epoch, seconds_done=in_progress.get("seconds", 0.0))
        losses = list(in_progress.get("losses", []))
        if losses:
            log(f"resuming epoch {epoch + 1} at step {len(losses) + 1}/{steps}")
        in_progress = {}
        last_checkpoint = time.time()
        for step in range(len(losses), steps):
            inputs, labels = batches[step]
            use_compiled_step_for(model, "train", inputs.shape[:2], compiled_steps)
            losses.append(float(model.train_on_batch(inputs, labels)))
            if (step + 1) % 50 == 0 or step + 1 == steps:
                log(f"epoch {epoch + 1} step {step + 1}/{steps}: loss {np.mean(losses[-50:]):.3f}")
            if step + 1 < steps and time.time() - last_checkpoint >= checkpoint_seconds:
                progress = {"epoch": epoch + 1, "losses": losses, "seconds": time.time() - report.epoch_started}
                save_state(out_dir, model, {**state, "epoch_in_progress": progress})
                log(f"checkpoint: epoch {epoch + 1} step {step + 1}/{steps}")
                last_checkpoint = time.time()
        report.on_epoch_end(epoch, {"loss": float(np.mean(losses))})
        if model.stop_training:
            break
    return state


def load_pack(data_directory, pack_path, log=print, speaker: str = DEFAULT_SPEAKER) -> dict:
    """{clip_id: PackedClip} from a compact pack directory, or from the ``.npz`` pack (built when missing)."""
    from lipnet_training.compact_pack import INDEX_NAME, read_compact_pack
    from lipnet_training.pack import build_training_pack, load_training_pack

    pack_path = Path(pack_path)
    if (pack_path / INDEX_NAME).exists():
        return read_compact_pack(pack_path)
    if not pack_path.exists():
        log(f"building the training pack {pack_path} from {data_directory} ...")
        list_clips(data_directory, speaker)  # fail fast on a bad data directory
        build_training_pack(data_directory, pack_path, speaker=speaker,
                            crop="grid" if speaker == DEFAULT_SPEAKER else "detected")
    return load_training_pack(pack_path)


def train_from_data_dir(data_directory, out_dir, recipe: Recipe, resume=False, pack_path=None, log=print,
                        speaker: str = DEFAULT_SPEAKER) -> dict:
    pack_path = pack_path or Path(out_dir) / "cache" / "training_pack.npz"
    return train(load_pack(data_directory, pack_path, log, speaker), out_dir, recipe, resume=resume, log=log)
