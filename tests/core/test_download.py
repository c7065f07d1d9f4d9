"""``download``: archives are checked and unpacked safely; every failure is one DownloadError sentence.

Every archive is built here and handed over by a fake ``fetch``, so no test touches the network.
"""

import socket
import stat
import zipfile

import pytest

from lipnet_core import download as download_module
from lipnet_core.download import DownloadError, download
from lipnet_core.errors import LipNetError

DATA_URL = "https://drive.google.com/uc?id=1YlvpDLix3S-U8fd-gqRwPcWXAXm8JwjL"
CHECKPOINT_URL = "https://drive.google.com/uc?id=1vWscXs4Vt0a_1IH1-ct2TCgXAZT-N3_Y"
ALIGNMENT = b"0 23750 sil\n23750 29500 bin\n29500 34000 blue\n74500 96500 sil\n"
QUOTA_PAGE = (
    b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>"
    b"Too many users have viewed or downloaded this file recently.</body></html>"
)


def make_zip(path, members):
    """members: {name: bytes}; a name ending in '/' is a folder."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, content in members.items():
            bundle.writestr(zipfile.ZipInfo(name), content)
    return path


def data_members(root="data/"):
    return {
        f"{root}s1/bbaf2n.mpg": b"\x00\x00\x01\xba fake mpeg",
        f"{root}s1/bbaf3s.mpg": b"\x00\x00\x01\xba other",
        f"{root}alignments/s1/bbaf2n.align": ALIGNMENT,
        f"{root}alignments/s1/bbaf3s.align": ALIGNMENT,
    }


def checkpoint_members(root="models/"):
    return {
        f"{root}checkpoint": b'model_checkpoint_path: "checkpoint"\nall_model_checkpoint_paths: "checkpoint"\n',
        f"{root}checkpoint.index": b"index bytes",
        f"{root}checkpoint.data-00000-of-00001": b"weight bytes",
    }


def serving(archive_path, calls=None):
    """A fake fetch that 'downloads' archive_path."""

    def fetch(file_id, output_path):
        if calls is not None:
            calls.append(file_id)
        output_path.write_bytes(archive_path.read_bytes())

    return fetch


def files_under(directory):
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


@pytest.fixture
def destination(tmp_path):
    return tmp_path / "out" / "here"


def test_data_archive_unpacks_into_data(tmp_path, destination):
    archive = make_zip(tmp_path / "data.zip", data_members())
    calls = []

    result = download("data", destination, fetch=serving(archive, calls))

    assert result == destination / "data"
    assert calls == ["1YlvpDLix3S-U8fd-gqRwPcWXAXm8JwjL"]
    assert files_under(destination) == [
        "data/alignments/s1/bbaf2n.align",
        "data/alignments/s1/bbaf3s.align",
        "data/s1/bbaf2n.mpg",
        "data/s1/bbaf3s.mpg",
    ]
    assert (result / "alignments" / "s1" / "bbaf2n.align").read_bytes() == ALIGNMENT
    assert [path.name for path in destination.iterdir()] == ["data"]  # no staging folder left


@pytest.mark.parametrize("root", ["models/", ""], ids=["models-folder", "top-level"])
def test_checkpoint_archive_unpacks_into_models(tmp_path, destination, root):
    archive = make_zip(tmp_path / "checkpoints.zip", checkpoint_members(root))

    result = download("checkpoint", destination, fetch=serving(archive))

    assert result == destination / "models"
    assert files_under(destination) == [
        "models/checkpoint",
        "models/checkpoint.data-00000-of-00001",
        "models/checkpoint.index",
    ]
    assert (result / "checkpoint.index").read_bytes() == b"index bytes"


def test_second_download_replaces_the_files(tmp_path, destination):
    download("checkpoint", destination, fetch=serving(make_zip(tmp_path / "a.zip", checkpoint_members())))
    newer = checkpoint_members()
    newer["models/checkpoint.index"] = b"newer index"
    download("checkpoint", destination, fetch=serving(make_zip(tmp_path / "b.zip", newer)))

    assert (destination / "models" / "checkpoint.index").read_bytes() == b"newer index"
    assert [path.name for path in destination.iterdir()] == ["models"]


def refused(what, destination, archive_path):
    with pytest.raises(DownloadError) as caught:
        download(what, destination, fetch=serving(archive_path))
    message = str(caught.value)
    assert "\n" not in message
    assert not (destination / "data").exists() and not (destination / "models").exists()
    assert list(destination.iterdir()) == []  # staging removed
    return message


def test_quota_page_saved_as_zip_is_explained(tmp_path, destination):
    page = tmp_path / "data.zip"
    page.write_bytes(QUOTA_PAGE)
    message = refused("data", destination, page)
    assert message.startswith("Google Drive refused the download (quota page)")
    assert DATA_URL in message


def test_random_bytes_are_not_a_zip(tmp_path, destination):
    junk = tmp_path / "checkpoints.zip"
    junk.write_bytes(bytes(range(256)) * 8)
    assert "is not a zip archive" in refused("checkpoint", destination, junk)


def test_member_escaping_with_dot_dot_is_refused(tmp_path, destination):
    members = data_members()
    members["data/../../../../evil.txt"] = b"gotcha"
    message = refused("data", destination, make_zip(tmp_path / "data.zip", members))
    assert "unsafe member path" in message and "evil.txt" in message
    assert not [path for path in tmp_path.rglob("evil.txt")]


def test_absolute_member_is_refused(tmp_path, destination):
    outside = tmp_path / "absolute-evil.txt"
    members = checkpoint_members()
    members[str(outside)] = b"gotcha"
    message = refused("checkpoint", destination, make_zip(tmp_path / "checkpoints.zip", members))
    assert "unsafe member path" in message
    assert not outside.exists()


def test_symbolic_link_member_is_refused(tmp_path, destination):
    archive = make_zip(tmp_path / "data.zip", data_members())
    link = zipfile.ZipInfo("data/s1/link.mpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "a") as bundle:
        bundle.writestr(link, "/etc/passwd")
    assert "symbolic link" in refused("data", destination, archive)


def test_archive_without_the_expected_files_is_refused(tmp_path, destination):
    members = {"data/s1/bbaf2n.mpg": b"clip", "data/readme.txt": b"no alignments here"}
    message = refused("data", destination, make_zip(tmp_path / "data.zip", members))
    assert "does not hold the GRID speaker-1 clips" in message and "alignments/s1/*.align" in message

    checkpoint_only_index = {"models/checkpoint.index": b"index"}
    message = refused("checkpoint", destination, make_zip(tmp_path / "checkpoints.zip", checkpoint_only_index))
    assert "checkpoint.data-00000-of-00001" in message and CHECKPOINT_URL in message


def test_fetch_failure_is_one_line_download_error(destination):
    def failing_fetch(file_id, output_path):
        raise OSError("Connection reset by peer\nwhile reading the response")

    with pytest.raises(DownloadError) as caught:
        download("checkpoint", destination, fetch=failing_fetch)
    message = str(caught.value)
    assert isinstance(caught.value, LipNetError)
    assert "\n" not in message
    assert "Connection reset by peer while reading the response" in message and CHECKPOINT_URL in message
    assert str(destination / "models" / "checkpoint.index") in message
    assert list(destination.iterdir()) == []


def test_unknown_download_is_refused(destination):
    with pytest.raises(DownloadError, match="choose one of checkpoint, data"):
        download("weights", destination, fetch=lambda file_id, output_path: None)


def test_offline_fails_fast_without_calling_gdown(monkeypatch, destination):
    def unreachable(address, timeout=None):
        assert address == ("drive.google.com", 443) and timeout <= 5
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(download_module.socket, "create_connection", unreachable)
    monkeypatch.setattr(download_module, "_gdown_fetch", lambda *arguments: pytest.fail("gdown must not run"))

    with pytest.raises(DownloadError, match=r"^Cannot reach Google Drive .*Temporary failure in name resolution"):
        download("data", destination)
    assert not destination.exists()


def test_gdown_quota_refusal_is_explained(monkeypatch, destination):
    gdown = pytest.importorskip("gdown")

    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exception):
            return False

    def refuse(*arguments, **keywords):
        raise gdown.exceptions.FileURLRetrievalError("Failed to retrieve file url:\n\n\tToo many users")

    monkeypatch.setattr(download_module.socket, "create_connection", lambda address, timeout=None: Connection())
    monkeypatch.setattr(gdown, "download", refuse)

    with pytest.raises(DownloadError, match=r"^Google Drive refused the download \(quota page\)"):
        download("checkpoint", destination)
