"""``simulate report --out`` never deletes a user's files: it replaces only new, empty or report folders."""
from __future__ import annotations

import pytest

from simulate.cli import main
from simulate.report.write import MARKER
from tests.helpers import CHATGPT


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "tiny", "-q"]) == 0
    return tmp_path / "tiny.toml"


def test_a_folder_with_a_foreign_file_is_refused_and_left_intact(tmp_path, capsys):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"four years of work")
    assert main(["report", str(CHATGPT), "--out", str(folder), "--samples", "2000"]) == 2
    err = capsys.readouterr().err
    assert "thesis.docx" in err and "--force" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["x"]                  # no temporary folder left
    assert [p.name for p in folder.iterdir()] == ["thesis.docx"]
    assert (folder / "thesis.docx").read_bytes() == b"four years of work"


def test_the_current_folder_and_a_file_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["report", str(CHATGPT), "--out", ".", "--samples", "2000"]) == 2
    assert main(["report", str(CHATGPT), "--out", "notes.txt", "--samples", "2000"]) == 2
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_force_replaces_and_a_report_replaces_its_own_folder(tiny, tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "old.txt").write_text("replace me")
    assert main(["report", str(tiny), "--out", str(folder), "--samples", "5000", "--force", "-q"]) == 0
    names = {p.name for p in folder.iterdir()}
    assert "old.txt" not in names and {"index.html", "summary.md", "results.nc", MARKER} <= names
    assert "simulate report" in (folder / MARKER).read_text()
    # a report folder (it has the marker) is replaced without --force, and so is an empty one
    assert main(["report", str(tiny), "--out", str(folder), "--samples", "5000", "-q"]) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(tiny), "--out", str(empty), "--samples", "5000", "-q"]) == 0
    assert (empty / "index.html").exists()


def test_an_earlier_report_without_the_marker_is_recognised(tmp_path):
    from simulate.report.write import check_out_folder

    folder = tmp_path / "old-report"
    folder.mkdir()
    for name in ("index.html", "summary.md", "results.nc", "fan.png", "fan.svg"):
        (folder / name).write_text("x")
    check_out_folder(folder)                    # accepted: only the files a report writes
    (folder / "photo.jpg").write_text("x")
    with pytest.raises(Exception, match="photo.jpg"):
        check_out_folder(folder)
    check_out_folder(folder, force=True)
