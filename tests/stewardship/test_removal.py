"""Remove local copies: only what OMERO verifiably holds goes, pairs together."""

from __future__ import annotations

from pathlib import Path

import pytest
from omero.rtypes import rstring

from cci_uploader import omero as om
from cci_uploader.omero.retention import delete_filesets
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.history import History
from cci_uploader.stewardship.removal import Action, Outcome, remove_local_copies
from tests.stewardship.stewardship_helpers import SEM, TIA, copy_samples, czi_copy, upload


def _remove(conn: om.Connection, history: History, **kwargs: object) -> list[Outcome]:
    return list(remove_local_copies(conn, history, history.uploads(), **kwargs))  # type: ignore[arg-type]


def _trash(home: Path) -> Path:
    return home / "data" / "Trash" / "files"


def test_verified_file_goes_to_the_recycle_bin(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, _isolated_dirs: Path
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    data = path.read_bytes()
    upload(conn, history, path)
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.REMOVED
    assert "verified" in outcome.reason
    assert not path.exists()
    assert (_trash(_isolated_dirs) / path.name).read_bytes() == data
    [record] = history.uploads()
    assert record.removed is not None
    assert _remove(conn, history) == []  # done once, not again


def test_delete_mode_deletes_instead(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, _isolated_dirs: Path
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    [outcome] = _remove(conn, history, mode="delete")
    assert outcome.action is Action.REMOVED
    assert not path.exists()
    assert not _trash(_isolated_dirs).exists()


def test_dry_run_removes_nothing(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    [outcome] = _remove(conn, history, dry_run=True)
    assert outcome.action is Action.WOULD_REMOVE
    assert path.exists()
    assert history.uploads()[0].removed is None


def test_file_changed_after_upload_is_kept(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    with path.open("r+b") as fh:  # same size, one byte different
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 1]))
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.KEPT
    assert "changed after it was uploaded" in outcome.reason
    assert path.exists()
    assert history.uploads()[0].removed is None


def test_file_whose_server_copy_was_deleted_is_kept(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, sandbox: SandboxServer
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    [record] = history.uploads()
    delete_filesets(conn, {record.group_id: record.fileset_ids})
    assert sandbox.objects("Image") == []
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.KEPT
    assert "no longer on OMERO" in outcome.reason
    assert path.exists()


def test_file_whose_server_checksum_differs_is_kept(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, sandbox: SandboxServer
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    [ofile] = sandbox.objects("OriginalFile")
    ofile.setHash(rstring("0" * 40))  # the server's copy is not what was sent
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.KEPT
    assert "does not match" in outcome.reason
    assert path.exists()


def test_pair_is_removed_together(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, _isolated_dirs: Path
) -> None:
    emi, ser = copy_samples(samples, tmp_path / "tia", *TIA)
    upload(conn, history, emi)
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.REMOVED
    assert outcome.paths == (emi.resolve(), ser.resolve())
    assert not emi.exists() and not ser.exists()
    assert sorted(p.name for p in _trash(_isolated_dirs).iterdir()) == sorted([emi.name, ser.name])


@pytest.mark.parametrize("changed", [0, 1], ids=["emi changed", "ser changed"])
def test_pair_with_one_changed_half_is_kept_whole(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, changed: int
) -> None:
    pair = copy_samples(samples, tmp_path / "tia", *TIA)
    upload(conn, history, pair[0])
    with pair[changed].open("ab") as fh:
        fh.write(b"\0")
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.KEPT
    assert pair[changed].name in outcome.reason
    assert all(p.exists() for p in pair)


def test_pair_missing_its_companion_keeps_the_main_file(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    emi, ser = copy_samples(samples, tmp_path / "tia", *TIA)
    upload(conn, history, emi)
    ser.unlink()
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.KEPT
    assert ser.name in outcome.reason
    assert emi.exists()


def test_source_of_a_verified_conversion_is_removed(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, sandbox: SandboxServer
) -> None:
    [tif] = copy_samples(samples, tmp_path / "sem", SEM)
    upload(conn, history, tif)
    [record] = history.uploads()
    assert record.converted
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.REMOVED
    assert "converted OME-TIFF" in outcome.reason
    assert not tif.exists()


def test_source_whose_converted_upload_does_not_verify_is_kept(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History, sandbox: SandboxServer
) -> None:
    [tif] = copy_samples(samples, tmp_path / "sem", SEM)
    upload(conn, history, tif)
    [ofile] = [
        f for f in sandbox.objects("OriginalFile") if f.getName().getValue().endswith(".ome.tif")
    ]
    ofile.setHash(rstring("f" * 40))
    [outcome] = _remove(conn, history)
    assert outcome.action is Action.KEPT
    assert tif.exists()


def test_file_already_gone_is_reported_not_removed(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    path = czi_copy(samples, tmp_path / "data", 1)
    upload(conn, history, path)
    path.unlink()
    [outcome] = _remove(conn, history)
    assert (outcome.action, outcome.reason) == (Action.KEPT, "no longer on this computer")


def test_a_name_omero_cleans_is_still_verified(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    # Server rule (MakePathComponentSafe): OMERO stores "run;1 x%.czi" for this
    # file; the history records that name, so the check finds the server's copy.
    path = czi_copy(samples, tmp_path / "data", 1, name="run:1 x?.czi")
    upload(conn, history, path)
    [record] = history.uploads()
    assert [f.name for f in record.stored] == ["run;1 x%.czi"]
    [outcome] = _remove(conn, history, dry_run=True)
    assert outcome.action is Action.WOULD_REMOVE, outcome.reason
