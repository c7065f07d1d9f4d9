"""Any GRID speaker: clips without alignments, sentences from ids, and the auto crop that looks for the face."""

import numpy as np
import pytest

from lipnet_core.crop_box import GRID_BOX, CropBox
from lipnet_core.dataset import check_speaker, list_clips
from lipnet_core.errors import DataDirError, FaceNotFoundError
from lipnet_core.grid_sentences import is_grid_sentence, sentence_from_id
from lipnet_core.preprocessing import GRID_AGREEMENT_PIXELS, boxes_agree, locate_mouth
from lipnet_core.video import read_clip


def test_a_grid_id_spells_its_sentence():
    assert sentence_from_id("bbaf2n") == "bin blue at f two now"
    assert sentence_from_id("swwpzs") == "set white with p zero soon"
    assert sentence_from_id("LRAE3S") == "lay red at e three soon"
    for not_an_id in ("bbaw2n", "bbaf2", "xbaf2n", "bbaf2nn", "", "../../x"):  # w is no GRID letter
        assert sentence_from_id(not_an_id) is None, not_an_id


def test_every_id_sentence_follows_the_grammar():
    rng = np.random.default_rng(0)
    codes = ("blps", "bgrw", "abiw", "abcdefghijklmnopqrstuvxyz", "z123456789", "anps")
    for _ in range(200):
        clip_id = "".join(rng.choice(list(code)) for code in codes)
        assert is_grid_sentence(sentence_from_id(clip_id)), clip_id


def test_speaker_names_are_checked_before_they_become_paths():
    assert check_speaker("s4") == "s4" and check_speaker("s31") == "s31"
    for bad in ("s0", "../s1", "s1/..", "4", "s100", ""):
        with pytest.raises(DataDirError):
            check_speaker(bad)


def test_clips_without_alignments_take_their_sentence_from_the_id(tmp_path):
    (tmp_path / "s4").mkdir()
    (tmp_path / "s4" / "bbaf2a.mp4").write_bytes(b"x")
    (tmp_path / "s4" / "notes.mp4").write_bytes(b"x")  # no alignment and no GRID id: skipped
    (tmp_path / "alignments" / "s4").mkdir(parents=True)
    (tmp_path / "s4" / "lrae3s.mpg").write_bytes(b"x")
    (tmp_path / "alignments" / "s4" / "lrae3s.align").write_text("0 1000 sil\n1000 5000 lay\n5000 9000 red\n")
    clips = list_clips(tmp_path, "s4")
    assert [clip.clip_id for clip in clips] == ["bbaf2a", "lrae3s"]
    assert clips[0].alignment_path is None and clips[0].sentence() == "bin blue at f two again"
    assert clips[1].sentence() == "lay red" and clips[1].speaker == "s4"
    with pytest.raises(DataDirError, match="s9"):
        list_clips(tmp_path, "s9")


def test_other_speakers_of_the_shared_data(grid_dir):
    s4 = list_clips(grid_dir, "s4")
    if not s4:
        pytest.skip("no speaker 4")
    assert len(s4) == 30 and all(clip.alignment_path is None for clip in s4)
    s26 = list_clips(grid_dir, "s26")
    assert len(s26) == 10 and all(clip.alignment_path is not None and is_grid_sentence(clip.sentence()) for clip in s26)


def test_boxes_agree_within_the_tolerance_on_every_edge():
    assert boxes_agree(GRID_BOX)
    shifted = CropBox(GRID_BOX.top + GRID_AGREEMENT_PIXELS, GRID_BOX.left - GRID_AGREEMENT_PIXELS,
                      GRID_BOX.bottom + GRID_AGREEMENT_PIXELS, GRID_BOX.right - GRID_AGREEMENT_PIXELS)
    assert boxes_agree(shifted)
    assert not boxes_agree(CropBox(GRID_BOX.top, GRID_BOX.left, GRID_BOX.bottom + GRID_AGREEMENT_PIXELS + 1,
                                   GRID_BOX.right))


def test_auto_keeps_speaker_1s_fixed_box_and_moves_to_another_speakers_mouth(grid_dir):
    speaker_1 = locate_mouth(read_clip(grid_dir / "s1" / "bbie8n.mp4").frames, "auto")
    assert speaker_1.mode == "grid" and speaker_1.box == GRID_BOX
    speaker_4 = locate_mouth(read_clip(grid_dir / "s4" / "bbaf2a.mp4").frames, "auto")
    assert speaker_4.mode == "detected" and not boxes_agree(speaker_4.box)
    assert speaker_4.box.top > GRID_BOX.top + GRID_AGREEMENT_PIXELS  # speaker 4 sits lower in the frame


def test_auto_refuses_a_grid_sized_clip_without_a_face(synthetic_clip):
    with pytest.raises(FaceNotFoundError, match="No face"):
        locate_mouth(read_clip(synthetic_clip(num_frames=30, size=(288, 360))).frames, "auto")
