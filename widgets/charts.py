"""Charts shared by the pages."""

import altair as alt
import numpy as np
import streamlit as st

from lipnet_core.demo.tables import probability_table
from lipnet_core.vocabulary import class_labels


def probability_heat_map(class_probabilities: np.ndarray, height_per_class: int = 16) -> None:
    """One column per frame, one row per class; darker is more probable.

    Written as a Vega-Lite spec rather than an Altair chart: Altair validates its spec against the JSON schema on
    every draw, most of this chart's cost to the server on each rerun of Try it out."""
    labels = class_labels()
    spec = {
        "mark": "rect",
        "height": height_per_class * len(labels),
        "encoding": {
            "x": {"field": "frame", "type": "ordinal", "title": "frame (25 per second)",
                  "axis": {"values": list(range(0, 1000, 5))}},
            "y": {"field": "class", "type": "nominal", "sort": labels, "title": "class",
                  "axis": {"labelOverlap": False}},
            "color": {"field": "probability", "type": "quantitative", "scale": {"scheme": "blues", "domain": [0, 1]}},
            "tooltip": [{"field": "frame", "type": "ordinal"}, {"field": "class", "type": "nominal"},
                        {"field": "probability", "type": "quantitative", "format": ".3f"}],
        },
    }
    st.vega_lite_chart(probability_table(class_probabilities, labels), spec, width="stretch")


# Okabe & Ito's colour-blind-safe palette; each line also gets its own dash, so a projector cannot merge two.
LINE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
LINE_DASHES = ([1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3])


def labelled_lines(table, columns: dict[str, str], y_title: str, percent: bool = False, log_scale: bool = False,
                   height: int = 320, marked_epoch: int | None = None) -> None:
    """One line per column of an epoch-indexed table, named in words (``columns``: column → label); a grey rule
    at ``marked_epoch`` labelled as the published one."""
    present = {column: label for column, label in columns.items() if column in table}
    long = (table[list(present)].rename(columns=present).rename_axis("epoch").reset_index()
            .melt("epoch", var_name="series", value_name="value").dropna())
    labels = list(present.values())
    y_axis = alt.Axis(format="%" if percent else ("~e" if log_scale else "~s"), tickCount=4 if log_scale else 6,
                      grid=not log_scale)
    chart = (
        alt.Chart(long)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X("epoch:Q", title="epoch"),
            y=alt.Y("value:Q", title=y_title, axis=y_axis, scale=alt.Scale(type="log") if log_scale else alt.Undefined),
            color=alt.Color("series:N", title=None, sort=labels,
                            scale=alt.Scale(domain=labels, range=list(LINE_COLOURS[: len(labels)])),
                            legend=alt.Legend(orient="top", labelFontSize=13, symbolStrokeWidth=3,
                                              symbolSize=300)),
            strokeDash=alt.StrokeDash("series:N", sort=labels, legend=None,
                                      scale=alt.Scale(domain=labels, range=list(LINE_DASHES[: len(labels)]))),
            tooltip=["epoch", "series", alt.Tooltip("value:Q", format=".1%" if percent else ".3g")],
        )
        .properties(height=height)
    )
    if marked_epoch is not None:
        marker = alt.Chart(alt.Data(values=[{"epoch": marked_epoch, "label": f"published: epoch {marked_epoch}"}]))
        chart = chart + marker.mark_rule(color="#777777", strokeDash=[3, 3]).encode(x="epoch:Q") + marker.mark_text(
            align="left", baseline="top", dx=4, dy=4, color="#555555", fontSize=12).encode(
            x="epoch:Q", y=alt.value(0), text="label:N")
    st.altair_chart(chart, width="stretch")


def confusion_heat_map(confusion, cell: int = 24) -> None:
    """Counts of (spoken, read) pairs as a grid, darker for more; each non-zero count written in its cell."""
    long = confusion.rename_axis(index="spoken", columns="read").stack().rename("clips").reset_index()
    rows, columns = list(confusion.index), list(confusion.columns)
    dark_above = float(confusion.to_numpy().max()) / 2
    base = alt.Chart(long).encode(
        x=alt.X("read:N", sort=columns, title="letter the network read (grammar decoder)",
                axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=13, labelOverlap=False)),
        y=alt.Y("spoken:N", sort=rows, title="letter spoken", axis=alt.Axis(labelFontSize=13, labelOverlap=False)),
    )
    cells = base.mark_rect(stroke="#e5e5e5").encode(
        color=alt.Color("clips:Q", scale=alt.Scale(scheme="blues"), title="clips"),
        tooltip=["spoken", "read", "clips"],
    )
    counts = base.transform_filter("datum.clips > 0").mark_text(fontSize=12).encode(
        text="clips:Q",
        color=alt.condition(f"datum.clips > {dark_above}", alt.value("white"), alt.value("black")),
    )
    chart = (cells + counts).resolve_scale(color="independent")
    st.altair_chart(chart.properties(width=cell * len(columns), height=cell * len(rows)), width="content")
