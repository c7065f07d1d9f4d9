"""The names a user picks from, declared once for the command line, the library and the pages (no heavy imports, so
the command line can offer them before TensorFlow loads)."""

DECODERS = ("greedy", "beam", "grid")  # best path; CTC beam search; the most probable GRID-grammar sentence
CROP_MODES = ("auto", "grid", "detected")  # see lipnet_core.preprocessing.locate_mouth
