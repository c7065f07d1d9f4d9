"""LipNet lip-reading demo. Run with ``streamlit run app.py``; GRID clips are found through $LIPNET_DATA_DIR."""

import random

import streamlit as st

from lipnet_core.dataset import data_dir, list_clips
from lipnet_core.demo.views import clip_splits, weights_choice
from lipnet_core.errors import LipNetError
from lipnet_core.grid_sentences import random_grid_sentence
from lipnet_core.paths import PROJECT_ROOT, SPLIT_PATH
from widgets.resources import closed_session_sweeper
from widgets.script_runs import keep_keras_session_between_runs

keep_keras_session_between_runs()  # Streamlit would clear the Keras session after every run (see widgets/script_runs)
closed_session_sweeper()  # Streamlit keeps a closed tab's session for good (see widgets/closed_sessions)

PAGE_ICON = PROJECT_ROOT / "assets" / "icon.png"  # a file, not an icon font: the app works offline
st.set_page_config(page_title="LipNet: reading lips", page_icon=str(PAGE_ICON), layout="wide")

navigation = st.navigation(
    [
        st.Page("app_pages/about.py", title="About", icon=":material/menu_book:", default=True),
        st.Page("app_pages/architecture.py", title="Architecture", icon=":material/account_tree:"),
        st.Page("app_pages/metrics.py", title="Metrics", icon=":material/monitoring:"),
        st.Page("app_pages/try_it_out.py", title="Try it out", icon=":material/videocam:"),
        st.Page("app_pages/quiz.py", title="Human vs machine", icon=":material/sports_score:"),
        st.Page("app_pages/teach_your_face.py", title="Teach it your face", icon=":material/face:"),
    ]
)
navigation.run()


@st.cache_data(ttl=60, show_spinner=False)
def clip_count(directory: str) -> tuple[int, int, int]:
    """All clips, and those held out from training: the test and the validation lists of the split."""
    clips, splits = list_clips(directory), clip_splits(SPLIT_PATH)
    return (len(clips), sum(splits.get(clip.clip_id) == "test" for clip in clips),
            sum(splits.get(clip.clip_id) == "validation" for clip in clips))


def new_sentence_seed() -> None:
    st.session_state.sentence_seed = random.randrange(2**32)


# The sidebar comes after the page so the page's content appears first.
with st.sidebar:
    st.subheader("Model")
    weights = weights_choice()
    st.markdown(f"Weights: `{weights.path.name}`" + (" (from `$LIPNET_WEIGHTS`)" if weights.from_environment else ""))
    if weights.present:
        st.success("Weights file found.", icon=":material/check_circle:")
    else:
        st.warning("No trained weights yet: readings are switched off.", icon=":material/warning:")
    directory = data_dir()
    st.markdown(f"Data directory: `{directory}`")
    try:
        total, test, validation = clip_count(str(directory))
        st.markdown(f"GRID clips: **{total}** ({test + validation} held out from training: {test} test, "
                    f"{validation} validation)")
    except LipNetError as error:
        st.caption(f"No GRID clips found. {error}")

    st.subheader("Say this on camera")
    st.session_state.setdefault("sentence_seed", random.randrange(2**32))
    with st.container(border=True):
        st.markdown(f"#### {random_grid_sentence(st.session_state.sentence_seed)}")
        st.caption("The published network reads GRID speaker 1 only: to have it read you, record a few such "
                   "sentences on **Teach it your face** first.")
    st.button("New sentence", key="new_sentence", icon=":material/casino:", on_click=new_sentence_seed)
