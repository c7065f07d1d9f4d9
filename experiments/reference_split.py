"""Which clips the reference notebooks' "test" split held out: ``python experiments/reference_split.py [--epochs 10]``.

The notebooks build their data with the lines below and take the first 450 batches of two clips for training and
the rest (50 batches, 100 clips) for testing::

    data = tf.data.Dataset.list_files('./data/s1/*.mpg')
    data = data.shuffle(500, reshuffle_each_iteration=False)
    ... data.padded_batch(2, ...)
    train = data.take(450); test = data.skip(450)

``list_files`` shuffles the file names again on every pass over the dataset (its default ``shuffle=True``), before
the fixed shuffle, so each epoch draws another split. This script runs those lines of TensorFlow over 1000 empty
files in a temporary folder (the names are all that the split sees) and prints how many of the clips a pass calls
"test" the training passes had already seen. Figures vary a little from run to run (``list_files`` has no seed);
nothing here is a pass/fail test. Needs TensorFlow (in ``requirements.txt``).
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

NUM_CLIPS = 1000
TRAIN_BATCHES = 450
BATCH_SIZE = 2


def clip_names(dataset) -> list[str]:
    return [Path(name.decode()).stem for batch in dataset.as_numpy_iterator() for name in batch]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="training passes to simulate (default 10)")
    args = parser.parse_args(argv)

    import tensorflow as tf

    with tempfile.TemporaryDirectory() as folder:
        for index in range(NUM_CLIPS):
            (Path(folder) / f"clip{index:04d}.mpg").touch()
        data = tf.data.Dataset.list_files(str(Path(folder) / "*.mpg"))
        data = data.shuffle(500, reshuffle_each_iteration=False).batch(BATCH_SIZE)
        train, test = data.take(TRAIN_BATCHES), data.skip(TRAIN_BATCHES)

        seen_in_training: set[str] = set()
        print(f"{NUM_CLIPS} clips; train = first {TRAIN_BATCHES} batches of {BATCH_SIZE}, test = the rest")
        for epoch in range(1, args.epochs + 1):
            seen_in_training |= set(clip_names(train))
            test_clips = set(clip_names(test))
            print(
                f"after epoch {epoch:2d}: {len(seen_in_training):4d} distinct clips trained on; a fresh pass over "
                f"'test' gives {len(test_clips)} clips, {len(test_clips & seen_in_training)} of them trained on"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
