"""How fast adaptation's two stages run on this CPU: ``python scripts/benchmark_adaptation.py [--repeats 5]``.

Prints the median seconds of (1) the published convolutions on a batch of two 75-frame clips, in float32 and, where
the CPU multiplies bfloat16 natively, in bfloat16 (``adapt`` computes the features the faster way), and (2) one
training step of the head on a batch of 8 clips' features with the product's loss, as TensorFlow's graph and
compiled with XLA (``adapt`` times both and keeps the faster), each with the seconds of its first, tracing run.
Random inputs: the timings, not the numbers, are the point. docs/adaptation.md quotes them. Nothing here is a
pass/fail test.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def traced_median_seconds(run, repeats: int) -> tuple[float, float]:
    """The seconds of a first run, which traces (or compiles) the step, and the median of ``repeats`` runs after it."""
    import time

    from benchmark import median_seconds

    started = time.perf_counter()
    run()
    return time.perf_counter() - started, median_seconds(run, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    from lipnet_core.quiet import load_backend_quietly

    load_backend_quietly()
    import keras
    import numpy as np

    from lipnet_core.head_features import cpu_has_bfloat16, features_of, head_of
    from lipnet_core.letter_timing import letter_row
    from lipnet_core.losses import ctc_and_letter_loss, padded_labels
    from lipnet_core.model import build_model
    from lipnet_core.paths import DEFAULT_WEIGHTS
    from lipnet_core.weights import load_weights

    network = build_model(None)
    load_weights(network, DEFAULT_WEIGHTS)
    rng = np.random.default_rng(0)
    clips = rng.standard_normal((2, 75, 46, 140, 1)).astype(np.float32)
    print(f"CPU multiplies bfloat16 natively (its flags): {cpu_has_bfloat16()}")
    for bfloat16 in (False, True) if cpu_has_bfloat16() else (False,):  # emulated bfloat16 took 20 times as long
        model = features_of(network, bfloat16)
        first, seconds = traced_median_seconds(lambda model=model: model.predict_on_batch(clips), arguments.repeats)
        print(f"convolutions, 2 clips, {'bfloat16' if bfloat16 else 'float32'}: {seconds:.3f} s (first {first:.1f} s)")

    sentence = "bin blue at f two now"
    features = rng.standard_normal((8, 75, 6375)).astype(np.float32)
    targets = np.concatenate([padded_labels([sentence] * 8), np.array([letter_row(sentence)] * 8)], axis=1)
    head = head_of(network, features.shape[-1])
    published = head.get_weights()
    for jit_compile in (False, True):
        head.set_weights(published)
        head.compile(optimizer=keras.optimizers.Adam(1e-3), loss=ctc_and_letter_loss(3.0), jit_compile=jit_compile)
        first, seconds = traced_median_seconds(lambda: head.train_on_batch(features, targets), arguments.repeats)
        way = "XLA" if jit_compile else "graph"
        print(f"head training step, 8 clips, {way}: {seconds:.3f} s (first {first:.1f} s)")


if __name__ == "__main__":
    main()
