"""Metrics: what the committed evaluations say, in plain words first; curves for the curious. Nothing typed by hand."""

import streamlit as st

from lipnet_core import paths
from lipnet_core.demo.letters import VISEME_GROUPS, confusion_summary, letter_confusion, letter_pairs
from lipnet_core.demo.results import (
    comparison_table,
    footnote_sources,
    load_adaptation_study,
    load_evaluation,
    load_head_history,
    load_history,
    load_published_epoch,
    load_published_results,
    seen_and_unseen,
    unseen_speakers,
)
from lipnet_core.errors import LipNetError
from widgets.charts import confusion_heat_map, labelled_lines

PUBLISHED_EPOCH = load_published_epoch()
DECODER_NAMES = {"greedy": "greedy decoding (the best class per frame)", "beam": "beam search",
                 "grid": "the GRID-grammar decoder (the most likely six-word GRID sentence)"}

def share(fraction: float) -> str:
    """A percentage for a sentence; shares just under 100% keep a decimal, so 99.9% is not shown as all."""
    return f"{fraction:.1%}" if 0.995 <= fraction < 1 else f"{fraction:.0%}"


st.title("Metrics")
try:
    evaluation = load_evaluation()
    trained_on = load_evaluation(paths.TRAIN_METRICS_PATH)
    history, head_history = load_history(), load_head_history()
    published = load_published_results()
except LipNetError as error:
    st.error(str(error))
    evaluation = trained_on = history = head_history = published = None

st.header("How well it reads speaker 1")
if evaluation is None:
    st.info("No evaluation committed yet (`models/metrics.json`): run `python -m lipnet_core evaluate --output "
            "models/metrics.json` after training.")
else:
    if evaluation.trained_weights is False:
        st.warning("These scores were measured with random weights (no trained model): they are not LipNet's.")
    words, sentences = evaluation.words_right(), evaluation.scores["sentence_accuracy"]
    best = words.idxmax() if words is not None else sentences.idxmax()
    if words is not None:
        others = [f"with {DECODER_NAMES.get(name, name)}, {share(words[name])} of words and {share(sentences[name])} "
                  "of sentences" for name in words.index if name != best]
        st.markdown(
            f"On **{evaluation.clips} clips of speaker 1 that it never trained on**, with "
            f"{DECODER_NAMES.get(best, best)} the network reads **{share(words[best])} of the words** and **"
            f"{share(sentences[best])} of the sentences** exactly right" + (f"; {'; '.join(others)}." if others else ".")
        )
    table = seen_and_unseen(evaluation, trained_on)
    st.dataframe(table, hide_index=True, column_config={
        column: st.column_config.ProgressColumn(column, format="%.1f %%", min_value=0, max_value=100)
        for column in table.columns if column != "decoder"})
    st.caption(evaluation.measured_on() + (f" Trained-on figures: {trained_on.measured_on()[0].lower()}"
                                           f"{trained_on.measured_on()[1:]}" if trained_on else ""))
    if trained_on is not None and words is not None and trained_on.words_right() is not None:
        seen_words, seen_sentences = trained_on.words_right()[best], trained_on.scores.loc[best, "sentence_accuracy"]
        st.subheader("Why the clips it trained on read so much better")
        st.markdown(
            f"On the {trained_on.clips} clips it learned from, the same network reads {share(seen_words)} of the "
            f"words and {share(seen_sentences)} of the sentences right; on clips it never saw, {share(words[best])} "
            f"and {share(sentences[best])}. That gap is **over-fitting**: with 8.5 million weights and one speaker's "
            f"{trained_on.clips} sentences, the network can remember details of each training clip (this take's "
            "head position, lighting, the exact timing of each word) instead of only what every way of saying a "
            "word has in common. New clips of the same speaker differ in those details, so what it memorised does "
            "not help there. More speakers and more sentences are the usual cure; GRID has 34 speakers, this "
            "project had one."
        )

    if evaluation.slot_accuracy is not None:
        st.header("Which words it gets wrong")
        st.markdown("The share of the held-out clips whose reading has the word of each GRID slot right, per "
                    "decoder (a reading that drops a word is wrong in that slot only).")
        st.dataframe(evaluation.slot_accuracy.mul(100).reset_index(), hide_index=True, column_config={
            name: st.column_config.ProgressColumn(name, format="%.0f %%", min_value=0, max_value=100)
            for name in evaluation.slot_accuracy.columns})
        hardest = evaluation.hardest_slot()
        st.caption(f"Hardest for this model: the {hardest.slot}, right in {hardest.share:.0%} of clips even with "
                   f"the {hardest.decoder} decoder, its best there.")

        st.subheader("Why letters are hard")
        sets = {f"held-out clips ({evaluation.clips})": evaluation}
        if trained_on is not None:
            sets[f"clips it trained on ({trained_on.clips})"] = trained_on
        shown = st.radio("Letters of", list(sets), horizontal=True, key="letter_clips")
        pairs = letter_pairs(sets[shown].per_clip, "grid")
        if not pairs:
            st.info("This evaluation kept no per-clip readings, so there is nothing to count.")
        else:
            summary = confusion_summary(pairs)
            st.markdown(
                f"Each GRID letter is one short syllable, and many letter names look alike on the lips. Of the "
                f"{summary['letters']} letters in these clips the grammar decoder read {summary['right']} right; of "
                f"the {summary['wrong']} it got wrong, **{summary['same_group']}** were read as a letter of the "
                "same mouth-shape group. Rows are the letter spoken, columns the letter read, both ordered by "
                "group: " + "; ".join(VISEME_GROUPS) + "."
            )
            confusion_heat_map(letter_confusion(pairs))
            st.caption("The groups are this project's, by the visible shape of each letter's name (lip-readers "
                       "call such look-alike groups visemes); GRID has no w. A mistake inside a group may be one "
                       "the lips alone cannot settle; a mistake across groups is harder to excuse.")

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
    rates = [column for column in unseen.columns if column.endswith(("WER", "CER"))]
    st.dataframe(unseen.assign(**{column: unseen[column] * 100 for column in rates}), hide_index=True,
                 column_config={column: st.column_config.NumberColumn(column.replace("grid", "GRID grammar"),
                                                                      format="%.1f %%") for column in rates})
    st.caption("Word (WER) and character (CER) error rates: lower is better. All clips of each speaker in the "
               "shared GRID folder, read by the published weights (`models/metrics_sN.json`, written by "
               "`python -m lipnet_core evaluate --speaker sN --crop detected`).")
study = load_adaptation_study()
if study is not None:
    st.markdown(f"**After adaptation** ({study['what']}): {study['summary']}")

st.header("Beside published GRID results")
if published is not None:
    table, sources = footnote_sources(comparison_table(published, evaluation))
    st.table(table.style.format({"CER %": "{:.1f}", "WER %": "{:.1f}"}).hide(axis="index"))  # wraps: nothing cut
    st.markdown("**Sources**\n" + "\n".join(f"{number}. {source}" for number, source in enumerate(sources, 1)))
    st.caption(
        "Published figures are copied from their sources (`assets/published_results.csv`). They are not comparable "
        "one to one with ours: the paper's *overlapped speakers* split trains and tests on all GRID speakers "
        "(multi-speaker), its *unseen speakers* split tests on speakers never trained on; ours trains on speaker 1 "
        "only and tests on speaker 1's held-out clips."
    )

with st.expander("Training curves, for the curious"):
    if history is None:
        st.info("No training history committed yet (`models/history.csv`).")
    else:
        st.markdown(f"**Stage 1: the whole network**, {len(history)} epochs (`models/history.csv`). From about epoch "
                    "30 the CTC loss of the training clips (blue) falls below that of the held-out validation clips "
                    "(orange) and the gap stays: the over-fitting above, as it happened.")
        labelled_lines(history, {"loss": "training clips", "val_loss": "validation clips"}, "CTC loss",
                       marked_epoch=PUBLISHED_EPOCH)
        st.markdown("**Learning rate.** Held at its starting value for 30 epochs, then lowered every epoch; each "
                    "jump back up is a *warm restart*: the run was resumed with the schedule started again, sometimes "
                    "from a lower rate.")
        labelled_lines(history, {"lr": "Adam learning rate"}, "learning rate", log_scale=True, height=260)
        st.markdown("**Validation error rates** (greedy decoding, 45 validation clips).")
        labelled_lines(history, {"val_wer": "word error rate", "val_cer": "character error rate"}, "error rate",
                       percent=True, marked_epoch=PUBLISHED_EPOCH)
        if "val_sentence_accuracy" in history and history["val_sentence_accuracy"].max() == 0:
            st.caption("Not plotted: the log's validation sentence accuracy, 0% at every epoch of this stage: its "
                       "greedy readings never got a whole validation sentence exactly right.")
        st.caption("Epochs 120–121 tried another kind of training clip (sentences spliced from several clips, "
                   "`docs/experiments.md`): the training loss jumps because the clips changed, the validation "
                   "scores got worse, and the run stopped."
                   + (f" The published network keeps epoch {PUBLISHED_EPOCH}'s convolutions (dashed rule)."
                      if PUBLISHED_EPOCH else ""))
    if head_history is not None:
        st.markdown(f"**Stage 2: the head retrained** on the frozen convolutions, {len(head_history)} epochs "
                    "(`models/head_history.csv`), with a loss term for the letter; the epoch with the lowest "
                    "validation greedy word error rate is the published one (the model card has the recipe).")
        labelled_lines(head_history, {"val_wer": "word error rate (greedy)",
                                      "val_grid_wer": "word error rate (GRID grammar)",
                                      "val_letter_accuracy": "letters right"}, "validation clips", percent=True)
