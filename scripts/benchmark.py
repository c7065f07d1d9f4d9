"""Speed of each stage of reading a clip: ``python scripts/benchmark.py [--data-dir DIR] [--weights PATH]``.

Prints the median of repeated runs for each stage on this machine. Nothing here is a pass/fail test.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lipnet_core.quiet import load_backend_quietly  # noqa: E402

load_backend_quietly()

import cv2  # noqa: E402

from lipnet_core.dataset import data_dir  # noqa: E402
from lipnet_core.normalise import normalise_clip  # noqa: E402
from lipnet_core.preprocessing import mouth_frames_of  # noqa: E402
from lipnet_core.video import read_clip  # noqa: E402


def median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def reference_load_video(path):
    """The reference notebooks' loader: per-frame ``tf.image.rgb_to_grayscale`` and TF statistics."""
    import tensorflow as tf

    capture = cv2.VideoCapture(str(path))
    frames = []
    for _ in range(int(capture.get(cv2.CAP_PROP_FRAME_COUNT))):
        ok, frame = capture.read()
        if not ok:
            break
        frame = tf.image.rgb_to_grayscale(frame)
        frames.append(frame[190:236, 80:220, :])
    capture.release()
    mean = tf.math.reduce_mean(frames)
    std = tf.math.reduce_std(tf.cast(frames, tf.float32))
    return tf.cast((frames - mean), tf.float32) / std


def decode_only(path):
    capture = cv2.VideoCapture(str(path))
    while capture.read()[0]:
        pass
    capture.release()


def ours(path):
    clip = read_clip(path)
    return normalise_clip(mouth_frames_of(clip, "grid")[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--weights")
    parser.add_argument("--repeats", type=int, default=15)
    arguments = parser.parse_args()
    directory = data_dir(arguments.data_dir)
    clips = [path for path in (directory / "mpg" / "bbal6n.mpg", directory / "s1" / "bbal6n.mp4") if path.exists()]
    if not clips:
        raise SystemExit(f"error: no GRID clip bbal6n in {directory}: pass --data-dir or set LIPNET_DATA_DIR")
    print(f"machine: {os.cpu_count()} CPUs; clip bbal6n (75 frames, 3 s)")
    for path in clips:
        ours(path), reference_load_video(path)  # warm caches and TensorFlow
        decode = median_seconds(lambda: decode_only(path), arguments.repeats)
        ours_seconds = median_seconds(lambda: ours(path), arguments.repeats)
        reference_seconds = median_seconds(lambda: reference_load_video(path), arguments.repeats)
        print(
            f"{path.suffix}: decode only {decode * 1000:.1f} ms"
            f" | read + grid crop + normalise {ours_seconds * 1000:.1f} ms"
            f" | reference per-frame TF loop {reference_seconds * 1000:.1f} ms"
            f" | speed-up {reference_seconds / ours_seconds:.1f}×"
        )

    from lipnet_core.demo.rendering import mouth_gif
    from lipnet_core.reader import LipReader

    reader = LipReader(arguments.weights, allow_untrained=True)
    print(f"weights: {reader.weights_path or 'random (no trained weights found)'}")
    path = clips[0]
    reader.read(path)  # warm-up: first call traces the model
    reading = reader.read(path)
    model_input = reading.model_input
    forward = median_seconds(lambda: reader.probabilities(model_input), max(3, arguments.repeats // 3))
    print(f"model forward, one clip (warm): {forward:.3f} s")
    for name in ("greedy", "beam", "grid"):
        seconds = median_seconds(lambda: reader.decode(reading.class_probabilities, (name,)), arguments.repeats)
        print(f"decode {name}: {seconds * 1000:.1f} ms")
    predict = median_seconds(lambda: reader.read(path, decoder="greedy", decoders=("greedy",)), 5)
    predict_all = median_seconds(lambda: reader.read(path), 5)
    print(f"predict one clip, model loaded: {predict:.3f} s greedy only; {predict_all:.3f} s with all three decoders")
    gif = median_seconds(lambda: mouth_gif(model_input), 5)
    print(f"mouth GIF ({len(mouth_gif(model_input)) // 1024} KB): {gif * 1000:.0f} ms")
    try:
        from lipnet_core.face_detection import detect_mouth_box

        frames = read_clip(path).frames
        detect_mouth_box(frames)
        detected = median_seconds(lambda: detect_mouth_box(frames), 3)
        print(f"detected crop (MTCNN on sampled frames), 75-frame clip: {detected:.2f} s")
    except ImportError:
        pass
    print(f"peak memory (max RSS): {max_rss_megabytes():.0f} MB")


def max_rss_megabytes():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
