"""Speed of a saliency map: ``python scripts/benchmark_saliency.py [--data-dir DIR] [--weights PATH] [--clip ID]``.

Reads one GRID speaker-1 clip with the published weights, then times :func:`lipnet_core.saliency.saliency_maps` for
the longest word the network read, and the two pictures the app draws from it. Prints medians; asserts nothing.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lipnet_core.quiet import load_backend_quietly  # noqa: E402

load_backend_quietly()

from lipnet_core.dataset import data_dir, find_video  # noqa: E402
from lipnet_core.demo.rendering import saliency_gif, saliency_strip, strip_frame_indices  # noqa: E402
from lipnet_core.reader import LipReader  # noqa: E402
from lipnet_core.saliency import saliency_maps, sentence_span, word_spans  # noqa: E402


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def wall_and_cpu(function, repeats):
    """Median wall seconds and median CPU seconds of this process (the CPU figure tells how busy the machine was:
    on an idle 2-core machine wall ≈ CPU / 2 for TensorFlow's parallel kernels)."""
    walls, cpus = [], []
    for _ in range(repeats):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        function()
        walls.append(time.perf_counter() - wall_started)
        cpus.append(time.process_time() - cpu_started)
    return statistics.median(walls), statistics.median(cpus), min(walls), max(walls)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--weights")
    parser.add_argument("--clip", default="bbie8n")
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    directory = data_dir(arguments.data_dir)
    path = find_video(directory, arguments.clip)
    if path is None:
        raise SystemExit(f"error: no GRID clip {arguments.clip} in {directory}: pass --data-dir or set LIPNET_DATA_DIR")
    reader = LipReader(arguments.weights)
    reading = reader.read(path, crop="grid")
    words = word_spans(reading.class_probabilities)
    word = max(words, key=lambda span: len(span.frames)) if words else sentence_span(reading.class_probabilities)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; weights {reader.weights_path}")
    print(f"clip {arguments.clip}: {reading.num_frames} frames, read “{reading.text}”; "
          f"word “{word.text}”, frames {word.first_frame}–{word.last_frame}")

    def word_map():
        return saliency_maps(reader.model, reading.model_input, word.frames, word.classes)

    first, saliency = timed(word_map)
    print(f"saliency_maps, first call (traces the gradient step): {first:.2f} s")
    wall, cpu, fastest, slowest = wall_and_cpu(word_map, arguments.repeats)
    print(f"saliency_maps, median of {arguments.repeats} warm runs: {wall:.2f} s "
          f"(min {fastest:.2f}, max {slowest:.2f}; CPU {cpu:.2f} s)")
    sentence = sentence_span(reading.class_probabilities)
    wall, cpu, _, _ = wall_and_cpu(
        lambda: saliency_maps(reader.model, reading.model_input, sentence.frames, sentence.classes), arguments.repeats)
    print(f"saliency_maps, whole sentence, median of {arguments.repeats}: {wall:.2f} s (CPU {cpu:.2f} s)")
    print(f"load average now {os.getloadavg()[0]:.1f}")
    strip_frames = strip_frame_indices(word.first_frame, word.last_frame, reading.num_frames)
    gif_seconds = statistics.median(timed(lambda: saliency_gif(reading.model_input, saliency))[0] for _ in range(3))
    strip_seconds = statistics.median(
        timed(lambda: saliency_strip(reading.model_input, saliency, strip_frames))[0] for _ in range(3))
    print(f"saliency GIF ({len(saliency_gif(reading.model_input, saliency)) // 1024} KB): {gif_seconds * 1000:.0f} ms;"
          f" strip of {len(strip_frames)} frames: {strip_seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
