"""Try it out: read a GRID clip or an uploaded one; show the video, what the network sees, and what it read."""

import hashlib
import time

import streamlit as st

from lipnet_core.dataset import DATA_DIR_VARIABLE, data_dir, list_clips
from lipnet_core.demo.explain import best_path, winning_shares
from lipnet_core.demo.results import load_evaluation
from lipnet_core.demo.tables import clip_scores
from lipnet_core.demo.views import (
    SPLIT_LABELS,
    clip_choices,
    clip_splits,
    needs_network,
    view_grid_clip,
    view_upload,
    weights_choice,
)
from lipnet_core.errors import LipNetError
from lipnet_core.options import CROP_MODES
from lipnet_core.paths import SPLIT_PATH
from lipnet_core.uploads import UPLOAD_TYPES
from widgets.charts import probability_heat_map
from widgets.resources import precomputed_readings, published_reader, reading_queue, recent_views, view_slots
from widgets.saliency_view import saliency_section

SPLIT_FILTERS = {"Held out": ("test", "validation"), "Trained on": ("train",), "All": None}


def read_in_turn(make_view, what: str):
    """Run ``make_view`` in the server's reading queue (one live reading at a time), showing this session's place
    and the expected wait until its turn. Raises LipNetError with the reading's own message when it fails."""
    queue = reading_queue()
    job = queue.submit(lambda progress: make_view())
    status = st.empty()
    try:
        while not job.finished:
            ahead, estimate = queue.position(job), queue.wait_estimate(job)
            if ahead:
                status.info(f"In the queue: {ahead} reading{'s' if ahead != 1 else ''} ahead of yours"
                            + (f", about {estimate:.0f} s" if estimate else "") + ". The server reads one clip at a "
                            "time, so each is quick.", icon=":material/hourglass_top:")
            else:
                status.info(f"Reading {what}…", icon=":material/hourglass_top:")
            time.sleep(0.2)
    finally:
        queue.cancel(job)  # the page was left while waiting: nobody needs this reading any more
    status.empty()
    if job.state == "failed":
        raise LipNetError(job.error)
    return job.result


def shown_view(key: tuple, make_view, live: bool, what: str):
    """A clip made ready to show: from the server's recent views, else made now (in the queue when it runs the
    network)."""
    views = recent_views()
    view = views.get(key)
    if view is None and live:
        view = read_in_turn(make_view, what)
    elif view is None:
        with view_slots():
            view = views.get(key) or make_view()
    views.put(key, view)
    return view


@st.cache_resource(ttl=60, show_spinner=False)
def grid_clip_choices(directory: str) -> tuple:
    """The GRID clips on offer, shared as they are (not copied for each rerun as ``st.cache_data`` would: unpickling
    900 choices on every rerun was 6% of the server's time with a class asking at once); a tuple, not to be changed."""
    return tuple(clip_choices(list_clips(directory), clip_splits(SPLIT_PATH)))


st.title("Try it out")
weights = weights_choice()
try:
    reader = published_reader(weights)
except LipNetError as error:
    st.error(str(error))
    reader = None
try:
    precomputed = precomputed_readings(weights) if reader is not None and reader.trained else None
except LipNetError as error:
    st.warning(f"{error} Clips are read live meanwhile.", icon=":material/warning:")
    precomputed = None
if weights.from_environment:
    st.info(f"Using weights from `$LIPNET_WEIGHTS`: `{weights.path}`.", icon=":material/info:")
if reader is not None and not reader.trained:
    st.warning(
        "No trained weights are present (`models/lipnet.weights.h5`), so the network's output would be random and "
        "no reading is shown. The video, the mouth crop and the crop box below do not depend on the weights.",
        icon=":material/warning:",
    )

source_column, crop_column = st.columns([3, 1])
source = source_column.radio("Clip", ["GRID clip", "Upload a clip"], horizontal=True, key="source")
crop = crop_column.selectbox("Mouth crop", CROP_MODES, key="crop", help="auto: the fixed GRID box for 288×360 "
                             "frames, else a face detector places it.")

view = None
if source == "GRID clip":
    try:
        choices = grid_clip_choices(str(data_dir()))
    except LipNetError as error:
        st.info(
            f"{error}\n\nGet GRID speaker 1 with `python -m lipnet_core download data`, or point "
            f"`{DATA_DIR_VARIABLE}` at a copy (e.g. `{DATA_DIR_VARIABLE}=../shared/grid streamlit run app.py`). "
            "You can still upload a clip.",
            icon=":material/folder_open:",
        )
        choices = []
    which = st.segmented_control(
        "Show clips", list(SPLIT_FILTERS), default="Held out", key="clip_split",
        help="Held out: clips the network never trained on (test and validation lists of models/split.json). "
             "Trained on: the 765 clips it learned from, which it reads far better.",
    ) or "All"
    wanted = SPLIT_FILTERS[which]
    shown = [choice for choice in choices if wanted is None or choice.split in wanted]
    labels_by_id = {choice.clip.clip_id: choice.label for choice in shown}
    clip_id = st.selectbox(f"GRID clip ({len(shown)} {which.lower()})", list(labels_by_id),
                           format_func=labels_by_id.get, key="clip")
    choice = next((choice for choice in shown if choice.clip.clip_id == clip_id), None)
    if choice is not None and reader is not None:
        clip = choice.clip
        key = ("grid", weights.cache_key, str(clip.video_path), clip.video_path.stat().st_mtime_ns, crop)
        try:
            view = shown_view(key, lambda: view_grid_clip(reader, clip, crop, precomputed),
                              needs_network(clip, crop, precomputed), clip.clip_id)
        except LipNetError as error:
            st.error(str(error))
else:
    upload = st.file_uploader("A short clip of one face saying one sentence", type=UPLOAD_TYPES, key="upload")
    if upload is not None and reader is not None:
        data, name = upload.getvalue(), upload.name
        key = ("upload", weights.cache_key, hashlib.sha256(data).hexdigest(), name, crop)
        try:
            view = shown_view(key, lambda: view_upload(reader, data, name, crop), True, "your clip")
        except LipNetError as error:
            st.error(str(error))

if view is not None:
    reading = view.reading
    video_column, frame_column, mouth_column = st.columns([4, 4, 5])
    video_column.video(view.video)
    split = choice.split if source == "GRID clip" and choice is not None else None
    video_column.caption(f"{view.name}: {len(reading.mouth_frames)} frames at 25 fps"
                         + (f"; {SPLIT_LABELS[split]}." if split else "."))
    frame_column.image(view.boxed_frame, caption=f"Middle frame; green box: the mouth crop ({reading.crop} crop).")
    mouth_column.image(view.mouth_gif, caption="What the network sees: the normalised 46×140 grey mouth crop, "
                       "enlarged.", width="stretch")

    if reading.trained:
        st.subheader("What the model read")
        evaluation = load_evaluation()
        if evaluation is not None and not weights.from_environment and "greedy" in evaluation.scores.index:
            greedy = evaluation.scores.loc["greedy"]
            st.caption(
                f"How reliable is it? On {evaluation.clips} held-out GRID clips this model's greedy reading has a word "
                f"error rate of {greedy['wer']:.0%} and gets {greedy['sentence_accuracy']:.0%} of sentences exactly "
                "right (see Metrics)."
            )
        st.markdown(f"### “{reading.text}”")
        if view.reference is not None:
            st.markdown(f"Ground truth (from {view.reference_source}): **{view.reference}**")
        st.dataframe(
            clip_scores(view.reference, reading.decodings),
            hide_index=True,
            column_config={"WER": st.column_config.NumberColumn(format="percent"),
                           "CER": st.column_config.NumberColumn(format="percent")},
        )
        st.caption("greedy: the most likely class per frame, collapsed; beam: CTC beam search; grid: the most likely "
                   "sentence allowed by GRID's grammar. Token ids index the vocabulary (1 = a … 39 = space).")

        st.subheader("Per-frame class probabilities")
        probability_heat_map(reading.class_probabilities)
        shares = winning_shares(reading.class_probabilities)
        st.caption(f"One column per frame, one row per class; darker is more probable. In this clip the most likely "
                   f"class is the space (␣) in {shares['space']:.0%} of frames, the CTC blank (·) in "
                   f"{shares['blank']:.0%} and a letter or digit in {shares['character']:.0%}: the network holds each "
                   "character for a frame or a few and fills the pauses between words with spaces or blanks, which "
                   "CTC then merges and drops.")
        path = best_path(reading.class_probabilities)
        st.markdown("How CTC turns the frames into text (`·` is the blank, `␣` a space):")
        st.code(f"best class per frame  {path.frames}\nrepeats merged        {path.merged}\n"
                f"blanks removed        {path.text}", language=None)
        stage_times = ", ".join(f"{stage} {value:.2f}" for stage, value in reading.seconds.items())
        st.caption(f"Time per stage (s): {stage_times}" + (
            ". The network's output for this clip was computed ahead of time with these same weights "
            "(`python -m lipnet_core precompute`); reading the video, the crop and the decoding ran now."
            if reading.precomputed else ""))
        saliency_section(reader, reading, key="saliency")
