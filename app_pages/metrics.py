"""Metrics: the committed training history and evaluation, beside published GRID results. Nothing typed by hand."""

import streamlit as st

from lipnet_core.demo.results import (
    comparison_table,
    footnote_sources,
    load_adaptation_study,
    load_evaluation,
    load_head_history,
    load_history,
    load_published_results,
    unseen_speakers,
)
from lipnet_core.errors import LipNetError

PERCENT = st.column_config.NumberColumn(format="%.1f %%")

st.title("Metrics")
try:
    history = load_history()
    head_history = load_head_history()
    evaluation = load_evaluation()
    published = load_published_results()
except LipNetError as error:
    st.error(str(error))
    history = head_history = evaluation = published = None

st.header("Training")
if history is None:
    st.info("No training history committed yet (`models/history.csv`): nothing to show until a model is trained.")
else:
    st.caption(f"{len(history)} epochs from `models/history.csv`.")
    loss_column, rate_column = st.columns(2)
    with loss_column:
        st.markdown("**CTC loss per epoch**")
        st.line_chart(history, y=[name for name in ("loss", "val_loss") if name in history], x_label="epoch")
    with rate_column:
        st.markdown("**Learning rate per epoch**")
        if "lr" in history:
            st.line_chart(history, y="lr", x_label="epoch")
    validation_scores = [name for name in ("val_wer", "val_cer", "val_sentence_accuracy") if name in history]
    if validation_scores:
        st.markdown("**Validation error rates and sentence accuracy per epoch** (fractions, greedy decoding)")
        st.line_chart(history, y=validation_scores, x_label="epoch")
if head_history is not None:
    st.subheader("Head retrained on the frozen convolutions")
    st.caption(
        f"{len(head_history)} epochs from `models/head_history.csv`: the two BiLSTMs and the softmax trained again on "
        "the convolutional features of the weights above, with a loss term for the letter; the epoch with the lowest "
        "validation greedy WER is the published one (the model card has the recipe)."
    )
    st.markdown("**Validation scores per epoch** (fractions: greedy WER, grid-decoder WER, letter right)")
    st.line_chart(head_history, y=["val_wer", "val_grid_wer", "val_letter_accuracy"], x_label="epoch")

st.header("Evaluation")
if evaluation is None:
    st.info("No evaluation committed yet (`models/metrics.json`): run the evaluate command after training.")
else:
    st.caption(evaluation.measured_on())
    if evaluation.trained_weights is False:
        st.warning("These scores were measured with random weights (no trained model): they are not LipNet's.")
    st.dataframe(
        evaluation.scores.mul(100).rename_axis("decoder").reset_index(),
        hide_index=True,
        column_config={"wer": st.column_config.NumberColumn("WER", format="%.1f %%"),
                       "cer": st.column_config.NumberColumn("CER", format="%.1f %%"),
                       "sentence_accuracy": st.column_config.NumberColumn("Sentence accuracy", format="%.1f %%")},
    )
    if evaluation.slot_accuracy is not None:
        st.markdown("**Which words it reads right**: the share of these clips whose reading has the word of each "
                    "GRID slot right, per decoder (a reading that drops a word is wrong in that slot only)")
        st.dataframe(
            evaluation.slot_accuracy.mul(100).reset_index(),
            hide_index=True,
            column_config={
                name: st.column_config.ProgressColumn(name, format="%.0f %%", min_value=0, max_value=100)
                for name in evaluation.slot_accuracy.columns
            },
        )
        hardest = evaluation.hardest_slot()
        st.caption(f"Hardest for this model: the {hardest.slot}, right in {hardest.share:.0%} of clips even with "
                   f"the {hardest.decoder} decoder, its best there.")

st.header("Other speakers")
st.markdown(
    "The network trained on GRID speaker 1 alone. Clips of speakers it never saw, with the mouth found by the face "
    "detector, show how little of it carries over to a new face, and what a few of the new speaker's own sentences "
    "(**Teach it your face**) give back."
)
unseen = unseen_speakers()
if unseen is None:
    st.info("No other speaker evaluated yet: `python -m lipnet_core evaluate --speaker s4 --crop detected "
            "--output models/metrics_s4.json`.")
else:
    st.dataframe(
        unseen.assign(**{column: unseen[column] * 100 for column in unseen.columns if column.endswith(("WER", "CER"))}),
        hide_index=True,
        column_config={column: st.column_config.NumberColumn(column.replace("grid", "GRID grammar"), format="%.1f %%")
                       for column in unseen.columns if column.endswith(("WER", "CER"))},
    )
    st.caption("All clips of each speaker in the shared GRID folder, read by the published weights (`models/"
               "metrics_sN.json`, written by `python -m lipnet_core evaluate --speaker sN --crop detected`).")
study = load_adaptation_study()
if study is not None:
    st.markdown(f"**After adaptation** ({study['what']}): {study['summary']}")

st.header("Beside published GRID results")
if published is not None:
    table, sources = footnote_sources(comparison_table(published, evaluation))
    st.dataframe(
        table,
        hide_index=True,
        column_config={"CER %": PERCENT, "WER %": PERCENT, "source": st.column_config.TextColumn("ref")},
    )
    st.markdown("**Sources**\n" + "\n".join(f"{number}. {source}" for number, source in enumerate(sources, 1)))
    st.caption(
        "Published figures are copied from their sources (`assets/published_results.csv`). They are not comparable "
        "one to one with ours: the paper's *overlapped speakers* split trains and tests on all GRID speakers "
        "(multi-speaker), its *unseen speakers* split tests on speakers never trained on; ours trains on speaker 1 "
        "only and tests on speaker 1's held-out clips."
    )
