"""``history``, ``retention``, ``remove-local`` and ``cleanup`` end to end against the stand-in."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
from stewardship_helpers import TIA, Clock, copy_samples, czi_copy, put_image, upload

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.retention import delete_filesets
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.history import History


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


# -- scheduled clean-up --------------------------------------------------------


def _report(folder: Path) -> tuple[str, dict[str, set[Path]]]:
    """The newest report: its mode line and the paths under each heading."""
    [*_, newest] = sorted(folder.glob("cleanup-*.txt"), key=lambda p: p.stat().st_mtime_ns)
    sections: dict[str, set[Path]] = {}
    mode, current = "", ""
    for line in newest.read_text(encoding="utf-8").splitlines():
        if line.startswith("mode: "):
            mode = line[6:]
        elif line.endswith(":") or " files):" in line:
            current = line.split(" (")[0]
            sections[current] = set()
        elif line.startswith("  ") and current:
            sections[current].add(Path(line.strip().split("\t")[0]))
    return mode, sections


@pytest.fixture
def pc(
    sandbox: SandboxServer, conn: om.Connection, samples: Path, tmp_path: Path
) -> dict[str, Path]:
    """A microscope PC's data folder: uploaded, changed, unknown and recent files."""
    root = tmp_path / "pc"
    history = History()
    files = {
        "verified": czi_copy(samples, root, 1, "verified.czi"),
        "recent": czi_copy(samples, root, 2, "recent.czi"),
        "changed": czi_copy(samples, root, 3, "changed.czi"),
        "on_server": czi_copy(samples, root / "copies", 4, "renamed.czi"),
        "unknown": czi_copy(samples, root, 5, "never-uploaded.czi"),
        "deleted": czi_copy(samples, root, 6, "deleted-on-server.czi"),
    }
    emi, ser = copy_samples(samples, root / "tem", *TIA)
    files.update(emi=emi, ser=ser)
    notes = root / "notes.txt"
    notes.write_text("not microscopy")
    files["notes"] = notes
    for key in ("verified", "recent", "changed", "deleted", "emi"):
        upload(conn, history, files[key])
    # The same bytes as renamed.czi, uploaded from another folder by someone.
    upload(conn, History(tmp_path / "other-pc.sqlite3"), czi_copy(samples, tmp_path / "o", 4))
    files["changed"].write_bytes(files["changed"].read_bytes() + b"edited")
    [deleted] = [u for u in history.uploads() if u.main.name == "deleted-on-server.czi"]
    delete_filesets(conn, {deleted.group_id: deleted.fileset_ids})
    old = (dt.datetime.now() - dt.timedelta(days=40)).timestamp()
    for key, path in files.items():
        if key != "recent":
            os.utime(path, (old, old))
    return files


def test_cleanup_dry_run_removes_nothing_and_lists_what_the_real_run_removes(
    sandbox: SandboxServer,
    env_token: str,
    pc: dict[str, Path],
    tmp_path: Path,
    _isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, logs = tmp_path / "pc", _isolated_dirs / "logs"
    hashes = {p: file_sha1(p) for p in pc.values()}
    argv = ["cleanup", "--root", str(root), "--older-than", "30", "--server", sandbox.address]
    expected = {pc["verified"], pc["on_server"], pc["emi"], pc["ser"]}

    assert main([*argv, "--dry-run"]) == 0
    mode, dry = _report(logs)
    assert mode.startswith("dry run")
    assert dry["Would remove"] == expected
    assert dry["Kept"] == {pc["changed"], pc["unknown"], pc["deleted"], pc["notes"]}
    assert {p: file_sha1(p) for p in pc.values()} == hashes  # nothing touched

    assert main(argv) == 0  # the shipped config: a dry run without the flag too
    assert _report(logs)[0].startswith("dry run")
    assert all(p.exists() for p in pc.values())

    config = tmp_path / "facility.toml"
    config.write_text('[cleanup]\ndry_run = false\ndelete_mode = "recycle"\n')
    monkeypatch.setenv("CCI_UPLOADER_CONFIG", str(config))
    assert main(argv) == 0
    mode, real = _report(logs)
    assert mode == "recycle bin"
    assert real["Removed"] == dry["Would remove"]
    assert real["Kept"] == dry["Kept"]
    assert {p for p in pc.values() if not p.exists()} == expected
    for path in set(pc.values()) - expected:
        assert file_sha1(path) == hashes[path]
    removed = {u.main.name for u in History().uploads() if u.removed is not None}
    assert removed == {"verified.czi", pc["emi"].name}


def test_cleanup_report_says_why_each_file_was_kept(
    sandbox: SandboxServer,
    env_token: str,
    pc: dict[str, Path],
    tmp_path: Path,
    _isolated_dirs: Path,
) -> None:
    assert main(["cleanup", "--root", str(tmp_path / "pc"), "--older-than", "30",
                 "--server", sandbox.address]) == 0  # fmt: skip
    [report] = (_isolated_dirs / "logs").glob("cleanup-*.txt")
    reasons = dict(
        line.strip().split("\t") for line in report.read_text().splitlines() if "\t" in line
    )
    assert "changed after it was uploaded" in reasons[str(pc["changed"])]
    assert "OMERO holds no file with its SHA-1" in reasons[str(pc["unknown"])]
    assert "no longer on OMERO" in reasons[str(pc["deleted"])]
    assert "not a microscopy file" in reasons[str(pc["notes"])]
    assert "Not looked at: 1 files younger than 30 days." in report.read_text()


def test_the_token_is_in_no_file_the_app_writes(
    sandbox: SandboxServer,
    env_token: str,
    samples: Path,
    tmp_path: Path,
    _isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "pc"
    czi_copy(samples, data, 1)
    copy_samples(samples, data, *TIA)
    server = ["--server", sandbox.address]
    assert main(["-v", "import", str(data), *server, "--group", "Sandbox Lab"]) == 0
    assert len(History().uploads()) == 2
    assert main(["-v", "history", "--csv"]) == 0
    (tmp_path / "export.csv").write_text(capsys.readouterr().out)
    assert main(["-v", "retention", "list", *server, "--older-than", "1"]) == 0
    assert main(["-v", "remove-local", *server, "--dry-run"]) == 0
    assert main(["-v", "cleanup", "--root", str(data), "--older-than", "1", *server]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".sqlite3", ".log", ".txt", ".csv"} <= kinds
    for path in written:
        assert env_token.encode() not in path.read_bytes(), f"token found in {path}"
    assert env_token not in "".join(capsys.readouterr())


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
