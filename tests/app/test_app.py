"""Every page of the Streamlit app through ``AppTest``: with and without GRID data, with and without weights.

The reading path is driven with random weights saved to a temporary file and passed through $LIPNET_WEIGHTS, so it
is exercised whether or not ``models/lipnet.weights.h5`` exists yet.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lipnet_core import paths
from lipnet_core.alignments import load_alignment
from lipnet_core.paths import DEFAULT_WEIGHTS
from lipnet_core.vocabulary import ids_to_text

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ("app_pages/about.py", "app_pages/architecture.py", "app_pages/metrics.py", "app_pages/try_it_out.py",
         "app_pages/quiz.py", "app_pages/teach_your_face.py")
TIMEOUT = 180


@pytest.fixture
def no_data_dir(tmp_path, monkeypatch):
    empty = tmp_path / "empty-data"
    empty.mkdir()
    monkeypatch.setenv("LIPNET_DATA_DIR", str(empty))
    monkeypatch.delenv("LIPNET_WEIGHTS", raising=False)
    return empty


@pytest.fixture
def with_grid(grid_dir, monkeypatch):
    monkeypatch.setenv("LIPNET_DATA_DIR", str(grid_dir))
    monkeypatch.delenv("LIPNET_WEIGHTS", raising=False)
    return grid_dir


def open_page(page: str) -> AppTest:
    """Run app.py once (it registers the pages with st.navigation), then switch to ``page``."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    if page != PAGES[0]:
        app.switch_page(page)
        app.run()
    return app


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def page_text(app: AppTest) -> str:
    return "\n".join(texts(kind) for kind in (app.markdown, app.info, app.warning, app.error, app.caption))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_a_data_directory(no_data_dir, page):
    app = open_page(page)
    assert not app.exception, app.exception
    assert app.title, "each page has a title"
    if page == PAGES[0]:  # AppTest (Streamlit ≥ 1.60) drops the sidebar after switch_page; the browser test sees it
        assert "No GRID clips found" in texts(app.sidebar.caption)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_grid_data(with_grid, page):
    app = open_page(page)
    assert not app.exception, app.exception
    if page == PAGES[0]:  # see above: only the first run's sidebar reaches AppTest
        assert "GRID clips: **" in texts(app.sidebar.markdown)
    assert not app.error, texts(app.error)


def test_about_page_explains_the_problem_the_corpus_and_the_limits(no_data_dir):
    app = open_page(PAGES[0])
    text = page_text(app)
    for needed in ("accessibility", "noisy", "silent", "Spatiotemporal convolutions", "Bidirectional recurrent",
                   "CTC", "blank", "bin blue at f two now", "Cooke", "120(5)", "CC BY 4.0", "speaker 1",
                   "not free speech"):
        assert needed in text, needed
    assert "Reading lips with LipNet" == app.title[0].value
    assert "mouth crop" in app.get("graphviz_chart")[0].proto.spec, "one picture of the data path"


def test_architecture_page_totals_come_from_the_live_model(no_data_dir):
    app = open_page(PAGES[1])
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Parameters"] == "8,471,924"
    assert metrics["Trainable parameters"] == "8,471,924"
    assert metrics["Input per clip"] == "75 × 46 × 140 × 1"
    assert metrics["Output per clip"] == "75 × 41"
    layers = app.dataframe[0].value
    assert len(layers) == 15
    assert layers["parameters"].sum() == 8_471_924
    assert list(layers["type"]).count("Conv3D") == 3 and list(layers["type"]).count("Bidirectional") == 2
    assert layers["what it does"].str.len().gt(20).all(), "each layer says in a phrase what it does"


def test_metrics_page_says_when_nothing_is_committed(no_data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "HISTORY_PATH", tmp_path / "history.csv")
    monkeypatch.setattr(paths, "HEAD_HISTORY_PATH", tmp_path / "head_history.csv")
    monkeypatch.setattr(paths, "METRICS_PATH", tmp_path / "metrics.json")
    monkeypatch.setattr(paths, "TRAIN_METRICS_PATH", tmp_path / "metrics_train.json")
    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(paths, "ADAPTATION_STUDY_PATH", tmp_path / "adaptation_study.json")
    app = open_page(PAGES[2])
    assert not app.exception
    assert "No training history committed yet" in texts(app.info)
    assert "No evaluation committed yet" in texts(app.info)
    assert "No other speaker evaluated yet" in texts(app.info)
    comparison = app.table[0].value
    assert set(comparison["figures"]) == {"published"}, "no figures of ours without metrics.json"
    assert "arXiv:1611.01599" in texts(app.markdown)


def test_metrics_page_charts_history_and_puts_ours_beside_published(no_data_dir, tmp_path, monkeypatch):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,loss,val_loss,val_wer,val_cer,val_sentence_accuracy,lr,seconds\n"
        "1,90.5,95.1,1.0,0.8,0.0,0.0001,100\n2,60.2,70.3,0.9,0.6,0.0,0.0001,101\n3,40.0,52.0,0.7,0.4,0.0,5e-05,99\n"
    )
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"decoders": {"greedy": {"wer": 0.25, "cer": 0.1, "sentence_accuracy": 0.5},
                                                "grid": {"wer": 0.125, "cer": 0.05, "sentence_accuracy": 0.75}},
                                   "clips": 90, "split": "test", "date": "2025-11-21"}))
    monkeypatch.setattr(paths, "HISTORY_PATH", history)
    monkeypatch.setattr(paths, "HEAD_HISTORY_PATH", tmp_path / "head_history.csv")
    monkeypatch.setattr(paths, "METRICS_PATH", metrics)
    monkeypatch.setattr(paths, "TRAIN_METRICS_PATH", tmp_path / "metrics_train.json")
    app = open_page(PAGES[2])
    assert not app.exception
    assert len(app.get("vega_lite_chart")) == 3, "loss, learning rate and validation scores are charts"
    assert "Stage 2" not in texts(app.markdown), "not without head_history.csv"
    assert "0% at every epoch" in texts(app.caption), "the flat sentence-accuracy column is explained, not drawn"
    assert "warm restart" in texts(app.markdown)
    chart_text = json.dumps([chart.proto.spec for chart in app.get("vega_lite_chart")])
    assert "training clips" in chart_text and "val_loss" not in chart_text, "legends in words, not column names"

    (tmp_path / "head_history.csv").write_text(
        "epoch,loss,val_loss,val_wer,val_cer,val_grid_wer,val_letter_accuracy,seconds\n"
        "1,20.0,11.9,0.31,0.15,0.24,0.13,32\n2,15.0,11.5,0.28,0.13,0.21,0.2,30\n"
    )
    app = open_page(PAGES[2])
    assert not app.exception
    assert len(app.get("vega_lite_chart")) == 4
    assert "Stage 2: the head retrained** on the frozen convolutions, 2 epochs" in texts(app.markdown)
    scores = app.dataframe[0].value.set_index("decoder")
    assert scores.loc["grid", "held out: sentences right"] == pytest.approx(75)
    assert "Measured on the 'test' clips (90 clips)" in texts(app.caption)
    comparison = app.table[0].value
    ours = comparison[comparison["figures"] == "ours"]
    assert list(ours["WER %"]) == pytest.approx([25.0, 12.5])
    paper = comparison[comparison["system"] == "LipNet (paper)"]
    assert sorted(paper["WER %"]) == pytest.approx([4.8, 11.4])
    unseen = next(frame.value for frame in app.dataframe if "speaker" in frame.value.columns)
    assert list(unseen["speaker"]) == ["4", "26", "31"], "the committed models/metrics_sN.json"
    assert unseen.set_index("speaker").loc["4", "grid WER"] == pytest.approx(75.56, abs=0.01)


def _metrics_file(path, clips_and_readings):
    path.write_text(json.dumps({
        "decoders": {"greedy": {"wer": 0.2, "sentence_accuracy": 0.0}, "grid": {"wer": 0.1, "sentence_accuracy": 0.5}},
        "clips": len(clips_and_readings),
        "per_clip": [{"clip": clip, "truth": truth, "greedy": greedy, "grid": grid}
                     for clip, truth, greedy, grid in clips_and_readings],
    }))
    return path


def test_metrics_page_says_in_words_what_it_reads_on_held_out_and_trained_on_clips(no_data_dir, tmp_path,
                                                                                    monkeypatch):
    held_out = _metrics_file(tmp_path / "metrics.json", [
        ("bbaf2n", "bin blue at f two now", "bin blue at two now", "bin blue at f two now"),
        ("bgaa7s", "bin green at a seven soon", "bin green at seven soon", "bin green at e seven soon"),
    ])
    trained_on = _metrics_file(tmp_path / "metrics_train.json", [
        ("bbab1s", "bin blue at b one soon", "bin blue at b one soon", "bin blue at b one soon"),
        ("bbac3n", "bin blue at c three now", "bin blue at c three now", "bin blue at c three now"),
        ("bbap4n", "bin blue at p four now", "bin blue at p four now", "bin blue at m four now"),
    ])
    monkeypatch.setattr(paths, "HISTORY_PATH", tmp_path / "history.csv")
    monkeypatch.setattr(paths, "METRICS_PATH", held_out)
    monkeypatch.setattr(paths, "TRAIN_METRICS_PATH", trained_on)
    app = open_page(PAGES[2])
    assert not app.exception, app.exception
    text = texts(app.markdown)
    # grid: 11 of 12 words right (92%), 1 of 2 sentences; greedy: 10 of 12 (83%) and 0 sentences
    assert "the network reads **92% of the words** and **50% of the sentences** exactly right" in text
    assert "with greedy decoding (the best class per frame), 83% of words and 0% of sentences" in text
    seen = app.dataframe[0].value.set_index("decoder")
    assert seen.loc["grid", "held out: words right"] == pytest.approx(100 * 11 / 12)
    assert seen.loc["grid", "trained on: words right"] == pytest.approx(100 * 17 / 18)
    assert "over-fitting" in text and "3 clips it learned from" in text

    words = app.dataframe[1].value.set_index("word")
    assert words.loc["letter", "greedy"] == 0 and words.loc["letter", "grid"] == pytest.approx(50)
    assert "Hardest for this model: the letter, right in 50% of clips even with the grid decoder" in texts(app.caption)
    # held out: f read as f, a read as e: one wrong, and a and e are in different mouth-shape groups
    assert "Of the 2 letters in these clips the grammar decoder read 1 right; of the 1 it got wrong, **0**" in text
    confusion = next(chart.proto.spec for chart in app.get("vega_lite_chart") if "letter spoken" in chart.proto.spec)
    assert "letter the network read" in confusion

    app.radio(key="letter_clips").set_value("clips it trained on (3)").run()
    assert not app.exception
    # trained on: p read as m, both lips-closed
    assert "of the 1 it got wrong, **1** were read as a letter of the same mouth-shape group" in texts(app.markdown)


def test_try_it_out_without_a_data_directory_says_how_to_get_one_and_offers_upload(no_data_dir):
    app = open_page(PAGES[3])
    assert not app.exception
    assert "download data" in texts(app.info)
    app.radio(key="source").set_value("Upload a clip").run()
    assert not app.exception
    assert not app.error


def test_try_it_out_reads_a_grid_clip_with_weights_from_the_environment(with_grid, random_weights, monkeypatch):
    monkeypatch.setenv("LIPNET_WEIGHTS", str(random_weights))
    app = open_page(PAGES[3])
    assert not app.exception, app.exception
    assert "Using weights from `$LIPNET_WEIGHTS`" in texts(app.info)
    clip_select = app.selectbox(key="clip")
    assert clip_select.value is not None
    assert "held out (test)" in clip_select.format_func(clip_select.value), "held-out clips come first"
    assert len(clip_select.options) == 135 and not any(label.startswith("bbal6n") for label in clip_select.options)

    app.segmented_control(key="clip_split").set_value("Trained on").run()
    clip_select = app.selectbox(key="clip")
    assert clip_select.format_func("bbal6n") == "bbal6n · trained on"
    clip_select.set_value("bbal6n").run()
    assert not app.exception, app.exception
    assert "What the model read" in [header.value for header in app.subheader]
    decoded = app.dataframe[0].value.set_index("decoder")
    assert list(decoded.index) == ["greedy", "beam", "grid"]
    for decoder, row in decoded.iterrows():  # the token ids shown spell the sentence shown
        assert ids_to_text([int(token) for token in row["token ids"].split()]) == row["sentence"], decoder
        assert 0 <= row["CER"] and 0 <= row["WER"]
    assert f"“{decoded.loc['greedy', 'sentence']}”" in texts(app.markdown)
    truth = load_alignment(with_grid / "alignments" / "s1" / "bbal6n.align").sentence
    assert f"**{truth}**" in texts(app.markdown)
    assert len(decoded.loc["grid", "sentence"].split()) == 6, "the grammar decoder always writes a GRID sentence"
    assert len(app.get("vega_lite_chart")) == 1, "the probability heat map"
    assert "blanks removed" in texts(app.code)

    app.selectbox(key="clip").set_value("bbaf2n").run()  # another clip, then back: served from the cache
    assert not app.exception
    app.selectbox(key="clip").set_value("bbal6n").run()
    assert app.dataframe[0].value.set_index("decoder").equals(decoded)


def test_try_it_out_in_the_repository_state(with_grid):
    """With models/lipnet.weights.h5 the page reads; without it, it says so and shows no random reading."""
    app = open_page(PAGES[3])
    assert not app.exception, app.exception
    assert app.get("image"), "the boxed frame and the mouth GIF are shown either way"
    headers = [header.value for header in app.subheader]
    if DEFAULT_WEIGHTS.exists():
        assert "What the model read" in headers
        assert app.dataframe[0].value["sentence"].str.len().gt(0).any()
    else:
        assert "No trained weights are present" in texts(app.warning)
        assert "What the model read" not in headers
        assert not app.dataframe and not app.get("vega_lite_chart")


@pytest.mark.slow
def test_try_it_out_shows_where_the_published_network_looks(with_grid):
    if not DEFAULT_WEIGHTS.exists():
        pytest.skip("no published weights")
    app = open_page(PAGES[3])
    assert not app.exception, app.exception
    assert "computed ahead of time" in texts(app.caption), "a held-out GRID clip is read from the stored outputs"
    images = len(app.get("image"))
    words = app.selectbox(key="saliency_word")
    assert words.format_func(0).startswith("the whole sentence")
    words.set_value(1).run()
    app.button(key="saliency_button").click().run()
    assert not app.exception and not app.error, app.exception or texts(app.error)
    assert len(app.get("image")) == images + 2, "the saliency GIF and the frame strip"
    assert "how much each input pixel moves the log-probability" in texts(app.caption)


def test_unusable_weights_from_the_environment_are_one_error(no_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LIPNET_WEIGHTS", str(tmp_path / "missing.weights.h5"))
    app = open_page(PAGES[3])
    assert not app.exception
    assert "No weights file at" in texts(app.error)


# The upload path. AppTest cannot drive st.file_uploader, so the function the page calls with the uploaded bytes
# is tested here, and the real uploader in tests/test_browser.py.


def test_a_grid_sized_upload_without_a_face_is_refused_unless_the_grid_crop_is_asked_for(reader, synthetic_clip):
    from lipnet_core.demo.views import view_upload
    from lipnet_core.errors import FaceNotFoundError

    clip = synthetic_clip(num_frames=50, size=(288, 360))
    with pytest.raises(FaceNotFoundError, match="No face was found"):
        view_upload(reader, clip.read_bytes(), "pattern.mp4")
    view = view_upload(reader, clip.read_bytes(), "../../etc/passwd.mp4", crop="grid")
    assert view.reading.crop == "grid" and view.reading.num_frames == 50
    assert view.reference is None
    assert view.video[4:8] == b"ftyp" and view.mouth_gif[:6] == b"GIF89a"
    assert view.boxed_frame.shape == (288, 360, 3)
    assert view.reading.class_probabilities.shape == (50, 41)
    # What a cache of views counts: the pictures, the video and the uint8 crop, not a float copy of the crop.
    crop = view.reading.mouth_frames
    assert crop.shape == (50, 46, 140) and crop.dtype == np.uint8
    assert view.nbytes < len(view.video) + len(view.mouth_gif) + 3 * 288 * 360 * 3 + crop.nbytes + 50 * 41 * 4 + 1
    assert view.reading.model_input.shape == (50, 46, 140, 1) and view.reading.model_input.dtype == np.float32


def test_an_upload_named_by_its_grid_id_shows_the_sentence_the_name_spells(reader, synthetic_clip):
    from lipnet_core.demo.views import view_upload

    data = synthetic_clip(num_frames=50, size=(288, 360)).read_bytes()
    view = view_upload(reader, data, "bras9a.mp4", crop="grid")
    assert view.reference == "bin red at s nine again" and "file's name" in view.reference_source
    assert view_upload(reader, data, "holiday.mp4", crop="grid").reference is None


def test_upload_without_a_face_is_one_clear_error(reader, synthetic_clip):
    from lipnet_core.demo.views import view_upload
    from lipnet_core.errors import FaceNotFoundError

    clip = synthetic_clip(num_frames=30, size=(240, 320))
    with pytest.raises(FaceNotFoundError, match="No face was found"):
        view_upload(reader, clip.read_bytes(), "selfie.mp4")


@pytest.mark.parametrize(
    "make_data, filename, message",
    [
        (lambda clip: b"", "empty.mp4", "empty"),
        (lambda clip: b"just some notes\n" * 100, "notes.mp4", "not a video OpenCV can decode"),
        (lambda clip: clip[: len(clip) // 4], "truncated.mp4", "truncated: only 4 of its 75 frames"),
        (lambda clip: clip, "clip.txt", "not accepted"),
        (lambda clip: b"\x00" * (51 * 2**20), "huge.mp4", "up to 50 MB"),
    ],
    ids=["zero-bytes", "text-named-mp4", "truncated", "txt-extension", "too-large"],
)
def test_unusable_uploads_raise_one_clip_error(reader, grid_dir, make_data, filename, message):
    from lipnet_core.demo.views import view_upload
    from lipnet_core.errors import ClipError

    real_clip = (grid_dir / "s1" / "bbal6n.mp4").read_bytes()
    with pytest.raises(ClipError, match=message):
        view_upload(reader, make_data(real_clip), filename)


def test_upload_of_half_a_clip_is_refused_as_truncated(reader, grid_dir):
    """The GRID mp4s have their index at the front, so half a file still declares 75 frames and is caught."""
    from lipnet_core.demo.views import view_upload
    from lipnet_core.errors import ClipError

    real_clip = (grid_dir / "s1" / "bbal6n.mp4").read_bytes()
    with pytest.raises(ClipError, match="truncated: only 25 of its 75 frames could be decoded"):
        view_upload(reader, real_clip[: len(real_clip) // 2], "half.mp4")


def test_clips_of_different_lengths_in_a_row_get_one_probability_row_per_frame(reader, synthetic_clip):
    """The page reads uploads and GRID clips of any length with one reader, one after another."""
    from lipnet_core.demo.views import view_upload

    for num_frames in (40, 75, 30):
        view = view_upload(reader, synthetic_clip(num_frames=num_frames).read_bytes(), "clip.mp4", crop="grid")
        assert view.reading.class_probabilities.shape == (num_frames, 41)


def test_too_long_upload_is_refused(reader, synthetic_clip):
    from lipnet_core.demo.views import view_upload
    from lipnet_core.errors import ClipError

    clip = synthetic_clip(num_frames=325, size=(48, 64))  # 13 s at 25 fps
    with pytest.raises(ClipError, match="longer than"):
        view_upload(reader, clip.read_bytes(), "speech.mp4")


def test_clip_choices_put_held_out_clips_first_and_name_their_split(tmp_path):
    from lipnet_core.dataset import GridClip
    from lipnet_core.demo.views import clip_choices, clip_splits, held_out_ids

    split_path = tmp_path / "split.json"
    split_path.write_text(json.dumps({"train": ["a1"], "validation": ["d4"], "test": ["c3"]}))
    clips = [GridClip(clip_id, Path(f"{clip_id}.mp4"), Path(f"{clip_id}.align"))
             for clip_id in ("a1", "b2", "c3", "d4")]
    choices = clip_choices(clips, clip_splits(split_path))
    assert [choice.label for choice in choices] == ["c3 · held out (test)", "d4 · held out (validation)",
                                                     "a1 · trained on", "b2"]
    assert [choice.held_out for choice in choices] == [True, True, False, False]
    assert held_out_ids(split_path) == {"c3"}
    assert clip_splits(tmp_path / "missing.json") == {}


def test_best_path_merges_repeats_then_drops_blanks():
    import numpy as np

    from lipnet_core.demo.explain import best_path
    from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, text_to_ids

    b, i, e, space = (int(text_to_ids(character)[0]) for character in "bie ")
    frames = [b, b, BLANK_INDEX, i, i, space, e, BLANK_INDEX, e, e]
    probabilities = np.full((len(frames), NUM_CLASSES), 0.01, dtype=np.float32)
    probabilities[np.arange(len(frames)), frames] = 0.9
    path = best_path(probabilities)
    assert path.frames == "bb·ii␣e·ee"
    assert path.merged == "b·i␣e·e"
    assert path.text == "bi ee"


def test_random_grid_sentence_follows_the_grammar():
    from lipnet_core.grid_sentences import is_grid_sentence, random_grid_sentence

    sentences = {random_grid_sentence(seed) for seed in range(20)}
    assert all(is_grid_sentence(sentence) for sentence in sentences)
    assert len(sentences) > 10
    assert random_grid_sentence(7) == random_grid_sentence(7)


def test_the_heat_map_caption_counts_what_the_frames_pick():
    import numpy as np

    from lipnet_core.demo.explain import winning_shares
    from lipnet_core.vocabulary import BLANK_INDEX, NUM_CLASSES, text_to_ids

    b, space = (int(text_to_ids(character)[0]) for character in "b ")
    frames = [b, space, space, space, BLANK_INDEX, b, space, space]
    probabilities = np.full((len(frames), NUM_CLASSES), 0.01, dtype=np.float32)
    probabilities[np.arange(len(frames)), frames] = 0.9
    assert winning_shares(probabilities) == {"space": 5 / 8, "blank": 1 / 8, "character": 2 / 8}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_stays_up_with_a_corrupt_weights_file(with_grid, tmp_path, monkeypatch, page):
    corrupt = tmp_path / "corrupt.weights.h5"
    corrupt.write_bytes(b"\x89HDF\r\n not really an HDF5 file")
    monkeypatch.setenv("LIPNET_WEIGHTS", str(corrupt))
    app = open_page(page)
    assert not app.exception, app.exception
    if page == PAGES[3]:
        assert "corrupt.weights.h5" in texts(app.error), "Try it out says which weights file is unusable"


def test_without_ffmpeg_the_pages_that_need_it_say_so_and_stay_up(with_grid, monkeypatch):
    import imageio_ffmpeg

    def no_ffmpeg():
        raise RuntimeError("No ffmpeg exe could be found.")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_ffmpeg)
    for page in ("app_pages/quiz.py", PAGES[3]):
        app = open_page(page)
        assert not app.exception, app.exception
    quiz = open_page("app_pages/quiz.py")
    assert "ffmpeg, which converts videos, is missing" in texts(quiz.error)
