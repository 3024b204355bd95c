"""``history``, ``retention``, ``remove-local`` and ``cleanup`` end to end against the stand-in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.hashing import file_sha1
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.history import History
from tests.stewardship.stewardship_helpers import Clock, czi_copy, put_image, upload


@pytest.fixture
def env_token(token: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    return token


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _state(sandbox: SandboxServer) -> dict[str, set[int]]:
    return {
        kind: {o.getId().getValue() for o in sandbox.objects(kind)}
        for kind in ("Image", "Fileset", "OriginalFile", "DatasetImageLink")
    }


@pytest.fixture
def aged(conn: om.Connection, clock: Clock, tmp_path: Path) -> dict[str, int]:
    clock.days_ago(35)
    old = put_image(conn, tmp_path / "up", "old.czi", "LSM 980", "2026-01-01")
    clock.days_ago(3)
    new = put_image(conn, tmp_path / "up", "new.czi", "LSM 980", "2026-01-02")
    clock.days_ago(0)
    return {"old": old, "new": new}


def test_retention_list_finds_exactly_the_old_images(
    sandbox: SandboxServer,
    env_token: str,
    aged: dict[str, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["retention", "list", "--server", sandbox.address, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["image_id"] for r in records] == [aged["old"]]
    assert records[0]["project"] == "LSM 980" and records[0]["dataset"] == "2026-01-01"
    assert main(["retention", "list", "--server", sandbox.address, "--older-than", "2d"]) == 0
    out = capsys.readouterr().out
    assert "2 of your images on OMERO are older than 2 days" in out
    assert "Sandbox Lab / LSM 980 / 2026-01-01: 1 image(s)" in out


def test_retention_delete_asks_and_a_no_deletes_nothing(
    sandbox: SandboxServer,
    env_token: str,
    aged: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _state(sandbox)
    _stdin(monkeypatch, "no\n")
    assert main(["retention", "delete", "--server", sandbox.address, "--older-than", "28d"]) == 1
    out = capsys.readouterr().out
    assert "This deletes 1 image(s) in 1 fileset(s)" in out and "old.czi" in out
    assert "Nothing was deleted." in out
    assert _state(sandbox) == before


def test_retention_delete_after_confirmation_removes_them_and_nothing_else(
    sandbox: SandboxServer,
    env_token: str,
    aged: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _state(sandbox)
    old_fileset = sandbox.state.get("Image", aged["old"]).getFileset().getId().getValue()
    _stdin(monkeypatch, "delete\n")
    assert main(["retention", "delete", "--server", sandbox.address, "--older-than", "28d"]) == 0
    assert "Deleted 1 fileset(s) with 1 image(s)" in capsys.readouterr().out
    after = _state(sandbox)
    assert after["Image"] == before["Image"] - {aged["old"]}
    assert after["Fileset"] == before["Fileset"] - {old_fileset}
    assert len(after["OriginalFile"]) == len(before["OriginalFile"]) - 1
    assert main(["retention", "list", "--server", sandbox.address, "--json"]) == 0
    assert capsys.readouterr().out == ""


def test_retention_delete_yes_skips_the_question(
    sandbox: SandboxServer, env_token: str, aged: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "")
    assert main(["retention", "delete", "--server", sandbox.address, "--yes"]) == 0
    assert {i.getId().getValue() for i in sandbox.objects("Image")} == {aged["new"]}


def test_history_cli_lists_and_exports_csv(
    conn: om.Connection,
    samples: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = czi_copy(samples, tmp_path, 1)
    upload(conn, History(), path)
    assert main(["history"]) == 0
    assert str(path.resolve()) in capsys.readouterr().out
    assert main(["history", "--csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["source_paths"], row["source_sha1"]) == (str(path.resolve()), file_sha1(path))
    assert main(["history", "--csv", "--status", "duplicate"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


def test_remove_local_cli_removes_verified_and_keeps_changed(
    sandbox: SandboxServer,
    env_token: str,
    conn: om.Connection,
    samples: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good, changed = (czi_copy(samples, tmp_path, n) for n in (1, 2))
    upload(conn, History(), good, changed)
    changed.write_bytes(changed.read_bytes() + b"!")
    assert main(["remove-local", "--server", sandbox.address, "--dry-run"]) == 0
    assert good.exists() and "would remove" in capsys.readouterr().out
    assert main(["remove-local", "--server", sandbox.address]) == 0
    out = capsys.readouterr().out
    assert f"[     removed] {good.resolve()}: verified" in out
    assert (
        f"[        kept] {changed.resolve()}: {changed.name} changed after it was uploaded" in out
    )
    assert not good.exists() and changed.exists()
