"""Verified removal checks the record's own server and user, and files that hold still."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.hashing import file_sha1
from cci_uploader.pipeline import Status
from cci_uploader.sandbox import DEMO_TOKEN, SandboxServer
from cci_uploader.stewardship import cleanup, removal
from cci_uploader.stewardship.history import History
from cci_uploader.stewardship.removal import (
    Action,
    apply,
    remove_local_copies,
    verify_upload,
)
from tests.stewardship.stewardship_helpers import age, czi_copy, upload

SANDBOX = "the training sandbox is not a copy anyone can rely on"


def test_the_sandbox_removal_is_reproduced_and_the_file_is_kept(
    training_sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # As reported: a real file imported into `cci-uploader sandbox`, then remove-local.
    path = czi_copy(samples, tmp_path / "data", 1)
    server = ["--server", training_sandbox.address]
    monkeypatch.setenv("CCI_OMERO_TOKEN", DEMO_TOKEN)
    assert main(["import", str(path), *server, "--group", "Sandbox Lab"]) == 0
    assert "nothing is added to your upload history" in capsys.readouterr().out
    assert History().uploads() == []  # the sandbox's import is not the user's history
    # A record made before this fix (or by hand) is still never verified there.
    conn = om.connect(training_sandbox.address, DEMO_TOKEN)
    try:
        upload(conn, History(), path, expect=Status.DUPLICATE)
    finally:
        conn.close()
    assert main(["remove-local", *server, "--dry-run"]) == 0
    assert main(["remove-local", *server]) == 0
    out = capsys.readouterr().out
    assert out.count(f"[        kept] {path.resolve()}: {SANDBOX}") == 2
    assert "would remove" not in out and "[     removed]" not in out
    assert path.read_bytes() == (samples / "czi/tiles_z.czi").read_bytes() + bytes([1])
    assert [u.removed for u in History().uploads()] == [None]


def test_a_record_is_only_checked_on_the_server_it_was_made_on(
    sandbox: SandboxServer,
    conn: om.Connection,
    clock: Callable[[], dt.datetime],
    samples: Path,
    tmp_path: Path,
    history: History,
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    with SandboxServer(now=clock, training=False) as elsewhere:
        # The same bytes there too: still not the server the record names.
        other = om.connect(elsewhere.address, elsewhere.new_token())
        try:
            other.switch_group("Sandbox Lab")
            upload(other, History(tmp_path / "other.sqlite3"), path)
            [outcome] = remove_local_copies(other, history, history.uploads())
        finally:
            other.close()
    assert outcome.action is Action.KEPT
    assert outcome.reason.startswith(f"it was uploaded to {sandbox.address}, not ")
    assert path.exists()


def test_a_record_is_only_checked_by_the_user_who_made_it(
    sandbox: SandboxServer, conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    someone = om.connect(sandbox.address, sandbox.new_token(sandbox.seed.other_user))
    try:
        [outcome] = remove_local_copies(someone, history, history.uploads())
    finally:
        someone.close()
    assert outcome.action is Action.KEPT
    assert outcome.reason.startswith("it was uploaded by the OMERO user demo, not other")
    assert path.exists()
    [again] = remove_local_copies(conn, history, history.uploads(), dry_run=True)
    assert again.action is Action.WOULD_REMOVE  # the same address written another way
    assert verify_upload(conn, history.uploads()[0]).verified


def _writer_during_hash(monkeypatch: pytest.MonkeyPatch, module: object, target: Path) -> None:
    """Someone appends 19 bytes to ``target`` while the app re-hashes it."""
    real = file_sha1

    def hash_then_write(path: Path) -> str:
        digest = real(path)
        if path.resolve() == target.resolve():
            with target.open("ab") as f:
                f.write(b"19 bytes written in")
        return digest

    monkeypatch.setattr(module, "file_sha1", hash_then_write)


def test_a_file_written_to_during_the_rehash_is_kept(
    conn: om.Connection,
    samples: Path,
    tmp_path: Path,
    history: History,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    _writer_during_hash(monkeypatch, removal, path)
    [outcome] = remove_local_copies(conn, history, history.uploads())
    assert outcome.action is Action.KEPT
    assert outcome.reason == f"{path.name} changed while it was being checked, so it is kept"
    assert (
        path.exists() and path.stat().st_size == (samples / "czi/tiles_z.czi").stat().st_size + 20
    )


def test_a_file_changed_between_the_check_and_the_removal_is_kept(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    verdict = verify_upload(conn, history.uploads()[0])
    assert verdict.verified
    with path.open("ab") as f:
        f.write(b"x")
    outcome = apply(verdict, dry_run=False, mode="delete")
    assert outcome.action is Action.KEPT
    assert outcome.reason == f"{path.name} changed after it was checked, so it is kept"
    assert path.exists()


def test_the_cleanups_own_lookup_keeps_a_file_written_to_during_its_hash(
    service: om.Connection,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "pc"
    path = czi_copy(samples, root, 1)
    upload(service, History(tmp_path / "someone-elses.sqlite3"), path)
    age(path)
    _writer_during_hash(monkeypatch, cleanup, path)
    settings = cleanup.Settings(root=root, older_than_days=30, dry_run=False, mode="delete")
    [outcome, _summary] = list(cleanup.run(service, History(), settings))
    assert isinstance(outcome, removal.Outcome) and outcome.action is Action.KEPT
    assert "changed while it was being checked" in outcome.reason
    assert path.exists()


def test_a_file_imported_through_a_link_has_one_name_so_it_is_found_and_removable(
    sandbox: SandboxServer,
    conn: om.Connection,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = czi_copy(samples, tmp_path / "data", 1, "cells.czi")
    link = tmp_path / "links" / "experiment-7.czi"
    link.parent.mkdir()
    link.symlink_to(real)
    monkeypatch.setenv("CCI_OMERO_TOKEN", sandbox.new_token())
    argv = ["import", str(link), "--server", sandbox.address, "--group", "Sandbox Lab"]
    assert main(argv) == 0
    assert main(argv) == 0  # a second run finds it: not uploaded again
    out = capsys.readouterr().out
    assert "[ uploaded]" in out and "[duplicate]" in out
    names = [f.getName().getValue() for f in sandbox.objects("OriginalFile")]
    assert names == ["cells.czi"]
    [record] = History().uploads()
    assert record.main == real.resolve() and [f.name for f in record.stored] == ["cells.czi"]
    assert main(["remove-local", "--server", sandbox.address]) == 0
    assert f"[     removed] {real.resolve()}: verified" in capsys.readouterr().out
    assert not real.exists()
