"""Charts shared by the pages."""

import altair as alt
import numpy as np
import streamlit as st

from lipnet_core.demo.tables import probability_table
from lipnet_core.vocabulary import class_labels


def probability_heat_map(class_probabilities: np.ndarray, height_per_class: int = 16) -> None:
    """One column per frame, one row per class; darker is more probable."""
    labels = class_labels()
    heat_map = (
        alt.Chart(probability_table(class_probabilities, labels))
        .mark_rect()
        .encode(
            x=alt.X("frame:O", title="frame (25 per second)", axis=alt.Axis(values=list(range(0, 1000, 5)))),
            y=alt.Y("class:N", sort=labels, title="class", axis=alt.Axis(labelOverlap=False)),
            color=alt.Color("probability:Q", scale=alt.Scale(scheme="blues", domain=[0, 1])),
            tooltip=["frame", "class", alt.Tooltip("probability:Q", format=".3f")],
        )
        .properties(height=height_per_class * len(labels))
    )
    st.altair_chart(heat_map, width="stretch")
