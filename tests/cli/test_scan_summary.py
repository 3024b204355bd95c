"""The scan tells the user which files in a folder it ignores, and why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cci_uploader.cli import main
from cci_uploader.config import Config
from cci_uploader.scan import scan


@pytest.fixture
def session(samples: Path, tmp_path: Path) -> Path:
    """A microscope session folder: two CZIs, an MRC+XML pair, and things that are not data."""
    folder = tmp_path / "session 12"
    (folder / "notes").mkdir(parents=True)
    shutil.copyfile(samples / "czi/tiles_z.czi", folder / "a.czi")
    shutil.copyfile(samples / "czi/czitools_WellD6_S1.czi", folder / "b.czi")
    shutil.copyfile(samples / "atlas/Atlas_1.mrc", folder / "Atlas_1.mrc")
    shutil.copyfile(samples / "atlas/Atlas_1.xml", folder / "Atlas_1.xml")
    (folder / "grid.map").write_bytes(b"map")
    (folder / "notes" / "grid2.MAP").write_bytes(b"map")
    (folder / "notes" / "settings.xml").write_text("<settings/>")
    (folder / "notes" / "README").write_text("hello")
    (folder / "snapshot.tif").write_bytes(b"II*\0" + b"\0" * 16)  # a TIFF, but not microscope data
    return folder


def test_summary_counts_what_was_added_and_ignored(session: Path) -> None:
    found = scan([session], Config())
    assert sorted(e.path.name for e in found.entries) == ["Atlas_1.mrc", "a.czi", "b.czi"]
    by_name = {i.path.name: i.reason for i in found.ignored}
    # The pair's .xml is a companion, not an ignored file.
    assert by_name == {
        "grid.map": ".map",
        "grid2.MAP": ".map",
        "settings.xml": ".xml without an image",
        "README": "file without an extension",
        "snapshot.tif": ".tif that is not a microscope file",
    }
    # Most frequent first; ties in the order the walk met them.
    assert found.summary() == (
        "3 files added; 5 ignored (not microscopy data: 2 .map, "
        "1 .tif that is not a microscope file, 1 file without an extension, "
        "1 .xml without an image)"
    )


def test_scan_json_ends_with_one_summary_line(
    session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(session), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    records, summary = lines[:-1], lines[-1]
    assert len(records) == 3 and all("path" in r for r in records)
    assert summary["added"] == 3 and summary["ignored"] == 5
    assert summary["ignored_reasons"][".map"] == 2
    assert summary["summary"].startswith("3 files added; 5 ignored (not microscopy data: 2 .map")
    listed = {Path(f["path"]).name for f in summary["ignored_files"]}
    assert listed == {"grid.map", "grid2.MAP", "settings.xml", "README", "snapshot.tif"}


def test_scan_text_lists_ignored_files_on_request(
    session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(session)]) == 0
    out = capsys.readouterr().out
    assert "3 files added; 5 ignored (not microscopy data:" in out
    assert "run again with --ignored to list them" in out
    assert "grid.map" not in out
    assert main(["scan", str(session), "--ignored"]) == 0
    out = capsys.readouterr().out
    assert f"ignored: {session / 'notes' / 'settings.xml'} (.xml without an image)" in out
    assert f"ignored: {session / 'grid.map'} (.map)" in out
