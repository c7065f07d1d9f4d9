"""Which precision trains faster on this CPU: ``python scripts/benchmark_training.py [--frames 56] [--steps 6]``.

Times ``train_on_batch`` (batch 2, the reference model with its CTC loss and Adam) in float32 and in mixed bfloat16
and prints the median seconds a step of each, after a first step that traces the graph. Run it before a long CPU
run: the CPU flags alone do not tell (on an Intel Xeon exposing AVX-512 BF16 but not AMX, float32 was the faster).
Each precision runs in its own process, since Keras's dtype policy is global. Nothing here is a pass/fail test.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRECISIONS = ("float32", "mixed_bfloat16")


def seconds_per_step(precision: str, num_frames: int, steps: int) -> float:
    from lipnet_core.quiet import load_backend_quietly

    load_backend_quietly()
    import keras
    import numpy as np

    from lipnet_core.losses import padded_labels
    from lipnet_core.model import build_model
    from lipnet_training.fit import Recipe, compile_model

    keras.mixed_precision.set_global_policy(precision)
    model = build_model(num_frames=None)
    compile_model(model, Recipe())
    inputs = np.random.default_rng(0).standard_normal((2, num_frames, 46, 140, 1)).astype(np.float32)
    labels = padded_labels(["bin blue at f two now", "set red by a one again"])
    model.train_on_batch(inputs, labels)  # traces the step
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        model.train_on_batch(inputs, labels)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=56, help="window length (training windows are 40-75 frames)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--precision", choices=PRECISIONS, help="time this one only, in this process")
    arguments = parser.parse_args()
    if arguments.precision:
        print(f"{seconds_per_step(arguments.precision, arguments.frames, arguments.steps):.2f}")
        return
    print(f"machine: {os.cpu_count()} CPUs; training step, batch 2 x {arguments.frames} frames")
    for precision in PRECISIONS:
        command = [sys.executable, __file__, "--precision", precision, "--frames", str(arguments.frames)]
        result = subprocess.run(command + ["--steps", str(arguments.steps)], capture_output=True, text=True)
        failed = f"failed: {result.stderr[-300:]}"
        seconds = result.stdout.strip().splitlines()[-1] if result.returncode == 0 else failed
        print(f"{precision}: {seconds} s a step (median of {arguments.steps})")


if __name__ == "__main__":
    main()
