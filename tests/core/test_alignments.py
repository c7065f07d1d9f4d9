import pytest

from lipnet_core.alignments import load_alignment, parse_alignment
from lipnet_core.errors import DataDirError

BBAF2N = """0 23750 sil
23750 29500 bin
29500 34000 blue
34000 35500 at
35500 41000 f
41000 47250 two
47250 53000 now
53000 74500 sil
"""


def test_parse_drops_silence_and_joins_words():
    alignment = parse_alignment(BBAF2N + "74500 75000 sp\n")
    assert alignment.sentence == "bin blue at f two now"
    assert alignment.words[0] == "bin" and len(alignment.words) == 6
    assert (alignment.speech_start_frame, alignment.speech_end_frame) == (23, 53)
    assert alignment.word_spans[3] == (35, 41)  # "f": 35500..41000 in 1/25000 s, each end rounded outwards
    assert len(alignment.word_spans) == 6 and alignment.word_spans[-1] == (47, 53)
    assert alignment.label_ids.tolist()[:3] == [2, 9, 14]


def test_malformed_and_empty_alignments_are_errors():
    with pytest.raises(DataDirError, match="line 2"):
        parse_alignment("0 1 sil\n0 1\n")
    with pytest.raises(DataDirError, match="no spoken words"):
        parse_alignment("0 75000 sil\n")


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataDirError, match="Cannot read"):
        load_alignment(tmp_path / "nope.align")


def test_real_grid_alignment(grid_dir):
    alignment = load_alignment(grid_dir / "alignments" / "s1" / "bbaf2n.align")
    assert alignment.sentence == "bin blue at f two now"
