"""Teach it your face: record a few GRID sentences, adapt the network to them, and see it read you."""

import random

import streamlit as st

from lipnet_core.demo.results import adaptation_minutes, load_adaptation_study
from lipnet_core.demo.teach import MIN_RECORDINGS, RECORDING_SECONDS, TeachSession, read_side_by_side
from lipnet_core.demo.views import weights_choice
from lipnet_core.demo.workspaces import remove_stale_workspaces
from lipnet_core.errors import LipNetError
from lipnet_core.uploads import UPLOAD_TYPES
from widgets.charts import probability_heat_map
from widgets.recorder import recorder
from widgets.resources import adaptation_queue, adapted_reader, published_reader


def session() -> TeachSession:
    if "teach" not in st.session_state:
        remove_stale_workspaces()
        st.session_state.teach = TeachSession.start(seed=random.randrange(2**32))
        st.session_state.sentence_index = 0
    return st.session_state.teach


def move(step: int) -> None:
    st.session_state.sentence_index = (st.session_state.sentence_index + step) % len(session().sentences)


def keep(add, *arguments) -> None:
    try:
        with st.spinner("Finding your mouth in the clip…"):
            clip = add(*arguments)
        st.success(f"Kept {clip.name}: {len(clip.mouth_frames)} frames, mouth found.", icon=":material/check:")
    except LipNetError as error:
        st.error(str(error))


def start_adaptation() -> None:
    st.session_state.pop("adapt_done_shown", None)
    st.session_state.pop("side_by_side", None)
    try:
        session().start_adaptation(adaptation_queue(), weights_choice().path)
    except LipNetError as error:
        st.session_state.adapt_error = str(error)


@st.fragment(run_every=1.0)
def adaptation_status() -> None:
    job = session().job
    if job.state == "waiting":
        ahead = adaptation_queue().position(job)
        st.info(f"Waiting for the server: {ahead} adaptation{'s' if ahead != 1 else ''} ahead of yours.",
                icon=":material/hourglass_top:")
    elif job.state == "running":
        st.progress(job.fraction, text=f"Adapting: {job.message}")
    elif "adapt_done_shown" not in st.session_state:
        st.session_state.adapt_done_shown = True
        st.rerun(scope="app")


teach = session()
st.title("Teach it your face")
st.markdown(
    "The published network learnt to read one person, GRID speaker 1, and reads almost nothing of anyone else. Here it learns "
    f"**your** face from a few sentences: record them (at least {MIN_RECORDINGS}; more is better), adapt, then say a "
    "new sentence and compare the published network with yours. Your clips and the adapted network stay in a "
    "temporary folder of this session and are deleted when you leave."
)
study = load_adaptation_study()
if study is not None:
    rows = sorted(study["rows"], key=lambda row: row["clips"])
    st.caption(
        f"What to expect, measured on GRID speaker {study['speaker'].lstrip('s')} ({study['what'].split(': ')[-1]}): "
        f"the published network reads {study['published_network']['grid_wer']:.0%} of the words wrong; adapted on "
        + ", ".join(f"{row['clips']} sentences, {row['grid_wer']:.0%}" for row in rows)
        + ". " + adaptation_minutes(rows, study.get("machine")) + " Better, not good: details in docs/adaptation.md."
    )

st.header("1. Record the sentences")
st.progress(len(teach.clips) / len(teach.sentences),
            text=f"{len(teach.clips)} of {len(teach.sentences)} sentences recorded")
index = st.session_state.sentence_index
back, position, forward = st.columns([1, 2, 1])
back.button("Previous", key="previous_sentence", on_click=move, args=(-1,), icon=":material/arrow_back:")
position.markdown(f"Sentence **{index + 1}** of {len(teach.sentences)}" + (" ✓ recorded" if index in teach.clips
                                                                            else ""))
forward.button("Next", key="next_sentence", on_click=move, args=(1,), icon=":material/arrow_forward:")
take = recorder(teach.sentences[index], RECORDING_SECONDS, index in teach.clips, key="recorder")
if take is not None:
    keep(teach.add_recording, index, take.data, take.mime_type)
upload = st.file_uploader("…or upload a clip of you saying this sentence (a phone video works)", type=UPLOAD_TYPES,
                          key=f"upload_{index}")
if upload is not None and st.session_state.get(f"kept_upload_{index}") != upload.file_id:
    st.session_state[f"kept_upload_{index}"] = upload.file_id
    keep(teach.add_upload, index, upload.getvalue(), upload.name)

st.header("2. Adapt")
if "adapt_error" in st.session_state:
    st.error(st.session_state.pop("adapt_error"))
job = teach.job
if job is None or job.state == "failed":
    if job is not None:
        st.error(job.error or "The adaptation failed.")
    st.button("Adapt to my face", key="adapt", type="primary", disabled=not teach.ready, on_click=start_adaptation,
              icon=":material/school:")
    if not teach.ready:
        st.caption(f"Record at least {MIN_RECORDINGS} sentences first.")
elif not job.finished:
    adaptation_status()
else:
    report = job.result
    before, after = report["held_aside_before"], report["held_aside_after"]
    summary = (f"Adapted on {len(report['clips_trained_on'])} of your clips in {report['seconds']['total']:.0f} s "
               f"({report['kept_epoch']} epochs).")
    if before and after:
        summary += (f" While it learnt, it read {1 - after['grid']['wer']:.0%} of the words of {len(report['clips_held_aside'])}"
                    f" clips kept aside right, against {1 - before['grid']['wer']:.0%} before.")
    st.success(summary, icon=":material/school:")
    st.download_button("Download your adapted weights", teach.adapted_weights.read_bytes(),
                       file_name="lipnet-adapted.weights.h5", key="download_weights", icon=":material/download:")
    st.caption("Load them with `python -m lipnet_core predict CLIP --weights lipnet-adapted.weights.h5`.")
    if len(teach.clips) > len({*report["clips_trained_on"], *report["clips_held_aside"]}):
        st.button(f"Adapt again with all {len(teach.clips)} sentences", key="adapt_again", on_click=start_adaptation)

st.header("3. Read me")
if teach.adapted_weights is None:
    st.info("Adapt first; then say a new sentence here.", icon=":material/lock:")
else:
    take = recorder(teach.test_sentence, RECORDING_SECONDS, "side_by_side" in st.session_state, key="reader")
    test_upload = st.file_uploader("…or upload a clip of this sentence", type=UPLOAD_TYPES, key="upload_test")
    try:
        path = teach.save_test_recording(take.data, take.mime_type) if take is not None else None
        if test_upload is not None and st.session_state.get("read_upload") != test_upload.file_id:
            st.session_state.read_upload = test_upload.file_id
            path = teach.save_test_upload(test_upload.getvalue(), test_upload.name)
        if path is not None:
            with st.spinner("Reading your clip with both networks…"):
                weights = teach.adapted_weights
                st.session_state.side_by_side = read_side_by_side(
                    published_reader(weights_choice()), adapted_reader(str(weights), weights.stat().st_mtime_ns), path,
                    teach.test_sentence)
    except LipNetError as error:
        st.error(str(error))
    result = st.session_state.get("side_by_side")
    if result is not None:
        st.markdown(f"You said: **{result.truth}**")
        scores = result.scores()
        for column, (label, name, reading) in zip(st.columns(2), (
                ("Published network (speaker 1)", "published", result.published),
                ("Adapted to you", "adapted", result.adapted))):
            with column:
                st.subheader(label)
                st.markdown(f"### “{reading.text}”")
                st.caption(f"Word error rate {scores[name]['WER']:.0%}, character error rate {scores[name]['CER']:.0%}"
                           " (GRID-grammar decoder).")
                probability_heat_map(reading.class_probabilities, height_per_class=9)
