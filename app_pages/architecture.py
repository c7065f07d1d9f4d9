"""Architecture: the live model's layers, parameter totals and shapes, and the data path from clip to text."""

import streamlit as st

from lipnet_core.demo.explain import data_path_dot
from lipnet_core.demo.tables import model_overview
from lipnet_core.model import GRID_NUM_FRAMES, build_model, layer_table


@st.cache_resource(show_spinner="Building the model…")
def overview_of_model(num_frames: int):
    model = build_model(num_frames)
    return model_overview(model, layer_table(model))


def shape_text(shape: tuple) -> str:
    return " × ".join(str(size) for size in shape if size is not None)


st.title("Architecture")
overview = overview_of_model(GRID_NUM_FRAMES)
st.caption(f"Built live by `lipnet_core.model.build_model({GRID_NUM_FRAMES})`, for a {GRID_NUM_FRAMES}-frame clip.")
total_column, trainable_column, input_column, output_column = st.columns([1, 1, 1.4, 1])
total_column.metric("Parameters", f"{overview.total_parameters:,}")
trainable_column.metric("Trainable parameters", f"{overview.trainable_parameters:,}")
input_column.metric("Input per clip", shape_text(overview.input_shape), help="frames × height × width × channels")
output_column.metric("Output per clip", shape_text(overview.output_shape), help="frames × classes")

path_column, table_column = st.columns([1, 4])
with path_column:
    st.markdown("**The data path** (T frames)")
    st.graphviz_chart(data_path_dot(), width="stretch")
with table_column:
    st.markdown("**Layers**, top to bottom as the data flows")
    st.dataframe(
        overview.layers,
        hide_index=True,
        height=35 * (len(overview.layers) + 1) + 3,
        column_order=["type", "what it does", "output_shape", "parameters", "name"],
        column_config={
            "name": st.column_config.TextColumn("Keras name", width="small"),
            "type": st.column_config.TextColumn("Layer", width="small"),
            "what it does": st.column_config.TextColumn("What it does", width="large"),
            "output_shape": st.column_config.TextColumn("Output shape", width="small"),
            "parameters": st.column_config.NumberColumn("Parameters", format="localized", width="small"),
        },
    )
    st.caption("Output shapes read (batch, frames, height, width, channels); 75 frames is a GRID clip's length.")
st.caption(
    "Input: mouth crops, 46 × 140 grey pixels per frame, normalised to zero mean and unit variance. Output: for "
    "every frame, a probability for each of the 41 classes (40 characters and padding, plus the CTC blank). "
    "The network never needs a fixed length: the same weights read clips of any number of frames."
)
