"""Human vs machine: lip-read a held-out GRID clip with the sound off, then see the truth and the model's reading."""

import random
from pathlib import Path

import streamlit as st

from lipnet_core import paths
from lipnet_core.dataset import DATA_DIR_VARIABLE, data_dir, list_clips
from lipnet_core.demo.playback import browser_playable
from lipnet_core.demo.quiz import (
    MAX_SEED,
    WORDS_PER_SENTENCE,
    class_view_lines,
    incomplete_answer_message,
    load_model_readings,
    missing_slots,
    quiz_clip,
    quiz_clip_ids,
    rounds_table,
    score_round,
    seed_from_text,
    silent_video,
    totals,
    verdict,
    word_table,
)
from lipnet_core.demo.results import load_evaluation
from lipnet_core.demo.views import held_out_ids
from lipnet_core.errors import LipNetError
from lipnet_core.grid_sentences import GRID_GRAMMAR, GRID_SLOT_NAMES

SLOT_KEYS = tuple(f"quiz_{name}" for name in GRID_SLOT_NAMES)


@st.cache_data(ttl=60, show_spinner=False)
def clip_paths(directory: str) -> dict[str, str]:
    return {clip.clip_id: str(clip.video_path) for clip in list_clips(directory)}


@st.cache_data(ttl=60, show_spinner=False)
def measured_readings(metrics_path: str):
    return load_model_readings(metrics_path)


@st.cache_data(show_spinner=False, max_entries=32)
def quiz_video(video_path: str, modified_ns: int) -> bytes:
    return silent_video(browser_playable(video_path))


def clear_picks() -> None:
    for key in SLOT_KEYS:
        st.session_state[key] = None
    st.session_state.quiz_warning = None


def new_game() -> None:
    st.session_state.quiz_game_seed = int(st.session_state.quiz_seed_input)
    st.session_state.quiz_round, st.session_state.quiz_results = 0, []
    clear_picks()


def next_round() -> None:
    st.session_state.quiz_round += 1
    clear_picks()


def check_answer(clip_id: str, truth: str, model_reading: str) -> None:
    picks = [st.session_state.get(key) for key in SLOT_KEYS]
    if missing := missing_slots(picks):
        st.session_state.quiz_warning = incomplete_answer_message(missing)
        return
    st.session_state.quiz_warning = None
    round_number = st.session_state.quiz_round + 1
    st.session_state.quiz_results.append(score_round(round_number, clip_id, truth, picks, model_reading))


if "quiz_game_seed" not in st.session_state:
    url_seed = seed_from_text(st.query_params.get("seed"))
    st.session_state.quiz_game_seed = random.randrange(1, 1000) if url_seed is None else url_seed
    st.session_state.quiz_round, st.session_state.quiz_results, st.session_state.quiz_warning = 0, [], None
st.session_state.setdefault("quiz_seed_input", st.session_state.quiz_game_seed)
seed, round_index, results = st.session_state.quiz_game_seed, st.session_state.quiz_round, st.session_state.quiz_results
st.query_params["seed"] = str(seed)
score = totals(results)

st.title("Human vs machine")
st.markdown("Watch someone say a short GRID sentence with the sound off, pick the six words you think they said, "
            "then see how you did against LipNet. The clips were held out from the model's training.")
controls = st.columns([1, 1, 2], vertical_alignment="bottom")
controls[0].number_input("Game number (seed)", min_value=0, max_value=MAX_SEED, step=1, key="quiz_seed_input",
                         on_change=new_game, help="Everyone with the same number gets the same clips in the same "
                         "order (it is also in the page address, `?seed=`). A new number starts a new game.")
class_view = controls[1].toggle("Class view", key="quiz_class_view", help="Large print for a projector: the "
                                "running totals and every round so far.")

if class_view:
    for line in class_view_lines(seed, score):
        st.markdown(line)
    if results:
        st.table(rounds_table(results).set_index("round"))
else:
    try:
        readings = measured_readings(str(paths.METRICS_PATH))
    except LipNetError as error:
        st.error(str(error))
        readings = {}
    if readings is None:
        st.info("No model readings yet (`models/metrics.json`): run `python -m lipnet_core evaluate` on the trained "
                "weights, then come back.", icon=":material/monitoring:")
    try:
        available = clip_paths(str(data_dir()))
    except LipNetError as error:
        st.info(f"{error}\n\nThe quiz plays GRID speaker 1's clips: get them with `python -m lipnet_core download "
                f"data`, or point `{DATA_DIR_VARIABLE}` at a copy.", icon=":material/folder_open:")
        available = {}
    clip_ids = quiz_clip_ids(readings or {}, held_out_ids(paths.SPLIT_PATH), available)
    if readings and available and not clip_ids:
        st.error("None of the held-out clips of `models/split.json` is both in the data directory and read in "
                 "`models/metrics.json`, so there is nothing to quiz on.")

    if clip_ids:
        clip_id = quiz_clip(clip_ids, seed, round_index)
        measured = readings[clip_id]
        answered = next((result for result in results if result.round_number == round_index + 1), None)
        st.subheader(f"Round {round_index + 1}")
        video_column, answer_column = st.columns([2, 3], gap="large")
        try:
            video_path = available[clip_id]
            video_column.video(quiz_video(video_path, Path(video_path).stat().st_mtime_ns), muted=True, loop=True)
            video_column.caption("The sound track is removed. Play the clip as often as you like.")
        except (LipNetError, OSError) as error:
            video_column.error(f"This clip cannot be shown: {error}")
            video_column.button("Skip this clip", key="quiz_skip", on_click=next_round)
        if answered is None:
            with answer_column.form("quiz_answer", border=False):
                st.markdown("**What did they say?** Pick one word for each part of the sentence:")
                for position, (name, words, key) in enumerate(zip(GRID_SLOT_NAMES, GRID_GRAMMAR, SLOT_KEYS)):
                    if position % 3 == 0:
                        slot_columns = iter(st.columns(3))  # two rows of three, in sentence order on any width
                    next(slot_columns).selectbox(name.capitalize(), words, index=None, key=key,
                                                 placeholder="Choose a word")
                st.form_submit_button("Check my answer", key="quiz_check", type="primary", on_click=check_answer,
                                      args=(clip_id, measured.truth, measured.reading))
            if st.session_state.quiz_warning:
                answer_column.warning(st.session_state.quiz_warning, icon=":material/warning:")
        else:
            with answer_column:
                st.markdown(f"### {verdict(answered)}")
                you_column, model_column = st.columns(2)
                you_column.metric("You", f"{answered.your_score} / {WORDS_PER_SENTENCE} words")
                model_column.metric("LipNet", f"{answered.model_score} / {WORDS_PER_SENTENCE} words")
                st.markdown(f"They said: **{answered.truth}** (clip `{clip_id}`)  \n"
                            f"You picked: **{answered.answer}**  \nLipNet read: **{answered.model_reading}**")
                st.table(word_table(answered).set_index("word"))
                st.button("Next round", key="quiz_next", type="primary", icon=":material/skip_next:",
                          on_click=next_round)
            evaluation = load_evaluation()
            st.caption("LipNet's reading is the one its GRID-grammar decoder gave (it only picks sentences GRID's "
                       "grammar allows), recorded by `python -m lipnet_core evaluate` in `models/metrics.json`"
                       + (f". {evaluation.measured_on()}" if evaluation else "."))

    st.subheader("Scoreboard")
    board = st.columns(5)
    board[0].metric("Rounds played", score.rounds)
    board[1].metric("Your words right", f"{score.your_words} / {score.words_possible}")
    board[2].metric("LipNet's words right", f"{score.model_words} / {score.words_possible}")
    board[3].metric("Your sentences right", score.your_sentences)
    board[4].metric("LipNet's sentences right", score.model_sentences)
