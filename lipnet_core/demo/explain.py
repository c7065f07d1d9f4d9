"""Pictures and steps that explain the network: the data path as a diagram, and how CTC turns frames into text."""

from dataclasses import dataclass

import numpy as np

from lipnet_core.vocabulary import BLANK_INDEX, VOCABULARY

BLANK_SYMBOL = "·"
SPACE_SYMBOL = "␣"


@dataclass(frozen=True)
class BestPath:
    """The most likely class per frame, and the two CTC steps that turn it into text.

    ``frames`` has one symbol per frame (``·`` the blank, ``␣`` a space); ``merged`` joins runs of the same
    symbol; ``text`` drops the blanks. This is greedy decoding, shown step by step.
    """

    frames: str
    merged: str
    text: str


def winning_shares(class_probabilities: np.ndarray) -> dict[str, float]:
    """The share of frames whose most likely class is the space, the blank, and a letter or digit."""
    winners = np.asarray(class_probabilities).argmax(axis=-1)
    space, blank = VOCABULARY.index(" "), BLANK_INDEX
    return {"space": float(np.mean(winners == space)), "blank": float(np.mean(winners == blank)),
            "character": float(np.mean((winners != space) & (winners != blank)))}


def best_path(class_probabilities: np.ndarray) -> BestPath:
    """(T, 41) probabilities → the greedy path, its repeats merged, and its blanks removed."""
    winners = np.asarray(class_probabilities).argmax(axis=-1)
    symbols = [BLANK_SYMBOL if index == BLANK_INDEX else VOCABULARY[index] or "∅" for index in winners]
    symbols = [SPACE_SYMBOL if symbol == " " else symbol for symbol in symbols]
    merged = [symbol for position, symbol in enumerate(symbols) if position == 0 or symbol != symbols[position - 1]]
    text = "".join(symbol for symbol in merged if symbol not in (BLANK_SYMBOL, "∅")).replace(SPACE_SYMBOL, " ")
    return BestPath(frames="".join(symbols), merged="".join(merged), text=text)


def data_path_dot(direction: str = "TB") -> str:
    """A Graphviz picture of the data path, clip to text, with the shape at each step (``direction``: TB top to
    bottom, LR left to right)."""
    steps = [
        ("clip", "clip\\n.mp4 / .mpg, 25 fps"),
        ("frames", "frames\\nT×H×W×3 uint8"),
        ("crop", "mouth crop\\nT×46×140 uint8"),
        ("normalise", "normalise\\nT×46×140×1 float32"),
        ("conv", "Conv3D ×3\\n+ max-pool"),
        ("lstm", "BiLSTM ×2"),
        ("softmax", "softmax\\nT×41"),
        ("ctc", "CTC decode"),
        ("text", "text"),
    ]
    nodes = "\n".join(f'  {name} [label="{label}"];' for name, label in steps)
    edges = " -> ".join(name for name, _ in steps)
    return (
        f"digraph data_path {{\n  rankdir={direction};\n"
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=12, '
        "width=2.4];\n"
        f"{nodes}\n  {edges};\n}}\n"
    )
