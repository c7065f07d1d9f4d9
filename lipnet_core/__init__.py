"""LipNet lip reading on the GRID corpus: clip → frames → mouth crop → tensor → model → decode → text."""

import os

# TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX-512 VNNI / BF16 or AMX. On an AVX2-only
# CPU (an AMD EPYC here) its fallback kernels made a training step (batch 2, 48 frames) 16.5 s instead of 6.0 s
# and a 75-frame forward pass 1.92 s instead of 1.36 s (scripts/benchmark.py). Set before TensorFlow is imported;
# a user's own value wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
