"""Converted formats: the originals go to OMERO too, and re-runs find them by the source.

End to end through the real queue, omero-py and the stand-in: what is asserted
is what the stand-in stores (FileAnnotations, OriginalFiles, their server-side
SHA-1) and what the queue and the verified removal decide.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.formats import emd, tia
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.originals import ORIGINALS_NS
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from cci_uploader.stewardship.removal import Action, remove_local_copies

EMD = "emd/fei_example_tem_stack.emd"
TIA = ("tia/64x64_TEM_images_acquire.emi", "tia/64x64_TEM_images_acquire_1.ser")


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "history.sqlite3")


@pytest.fixture(autouse=True)
def _home_beside_trash(_isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(_isolated_dirs))


def _run(conn: om.Connection, history: History, *paths: Path) -> ImportQueue:
    queue = ImportQueue(
        plan(scan_paths(list(paths), Config()), Config(), [("Sample", "S1")]), history=history
    )
    list(queue.run(conn))
    return queue


def _attachments(sandbox: SandboxServer) -> dict[int, list[Any]]:
    """Image id -> the OriginalFiles attached to it in our namespace."""
    files = {f.getId().getValue(): f for f in sandbox.objects("OriginalFile")}
    annotations = {
        a.getId().getValue(): a
        for a in sandbox.objects("FileAnnotation")
        if a.getNs().getValue() == ORIGINALS_NS
    }
    found: dict[int, list[Any]] = {}
    for link in sandbox.objects("ImageAnnotationLink"):
        annotation = annotations.get(link.getChild().getId().getValue())
        if annotation is not None:
            image = link.getParent().getId().getValue()
            found.setdefault(image, []).append(files[annotation.getFile().getId().getValue()])
    return found


def _forget_attachments(sandbox: SandboxServer) -> None:
    """Make the server look as an older version of the app left it: no originals attached."""
    with sandbox.state.lock:
        for link in sandbox.objects("ImageAnnotationLink"):
            if link.getChild().getId().getValue() in sandbox.state.objects.get(
                "FileAnnotation", {}
            ):
                sandbox.state.delete("ImageAnnotationLink", link.getId().getValue())


def test_emi_ser_originals_are_attached_with_the_servers_sha1(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path, history: History
) -> None:
    emi, ser = (Path(shutil.copy(samples / n, tmp_path)) for n in TIA)
    [entry] = _run(conn, history, emi).states
    assert entry.status is Status.UPLOADED, entry.message
    attached = _attachments(sandbox)
    assert set(attached) == set(entry.image_ids)
    for files in attached.values():
        by_name = {f.getName().getValue(): f for f in files}
        assert set(by_name) == {emi.name, ser.name}
        for path in (emi, ser):
            stored = by_name[path.name]
            # The stand-in hashed the bytes it received, as RawFileBean.save does.
            assert stored.getHash().getValue() == file_sha1(path)
            assert stored.getSize().getValue() == path.stat().st_size
            assert stored.getHasher().getValue().getValue() == "SHA1-160"


def test_second_run_converts_nothing_and_finds_the_same_images(
    conn: om.Connection,
    sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
    history: History,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = Path(shutil.copy(samples / EMD, tmp_path))
    [first] = _run(conn, history, path).states
    assert first.status is Status.UPLOADED, first.message
    filesets = len(sandbox.objects("Fileset"))

    def no_conversion(*args: object) -> list[Path]:
        raise AssertionError("converted again")

    monkeypatch.setattr(emd, "FORMAT", dataclasses.replace(emd.FORMAT, convert=no_conversion))
    # A fresh history: the answer comes from the attachments on the server, not this PC.
    [again] = _run(conn, History(tmp_path / "other-pc.sqlite3"), path).states
    assert again.status is Status.DUPLICATE, again.message
    assert again.image_ids == first.image_ids
    assert len(sandbox.objects("Fileset")) == filesets


def test_file_converted_by_an_older_version_is_found_and_gets_its_originals(
    conn: om.Connection,
    sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
    history: History,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emi, ser = (Path(shutil.copy(samples / n, tmp_path)) for n in TIA)
    [first] = _run(conn, history, emi).states
    _forget_attachments(sandbox)
    assert _attachments(sandbox) == {}

    def no_conversion(*args: object) -> list[Path]:
        raise AssertionError("converted again")

    monkeypatch.setattr(tia, "FORMAT", dataclasses.replace(tia.FORMAT, convert=no_conversion))
    [again] = _run(conn, history, emi).states
    assert again.status is Status.DUPLICATE, again.message
    assert again.image_ids == first.image_ids
    attached = _attachments(sandbox)
    assert set(attached) == set(first.image_ids)
    assert {f.getHash().getValue() for f in attached[first.image_ids[0]]} == {
        file_sha1(emi),
        file_sha1(ser),
    }


def test_same_content_under_another_name_is_not_a_duplicate(
    conn: om.Connection, samples: Path, tmp_path: Path, history: History
) -> None:
    path = Path(shutil.copy(samples / EMD, tmp_path))
    _run(conn, history, path)
    renamed = tmp_path / "other" / "renamed.emd"
    renamed.parent.mkdir()
    shutil.copyfile(path, renamed)
    [entry] = _run(conn, History(tmp_path / "fresh.sqlite3"), renamed).states
    assert entry.status is Status.UPLOADED, entry.message


def test_removal_needs_each_original_on_omero(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path, history: History
) -> None:
    emi, ser = (Path(shutil.copy(samples / n, tmp_path)) for n in TIA)
    _run(conn, history, emi)
    links = {
        link.getId().getValue(): link
        for link in sandbox.objects("ImageAnnotationLink")
        if link.getChild().getId().getValue() in sandbox.state.objects.get("FileAnnotation", {})
    }
    saved = dict(links)
    _forget_attachments(sandbox)
    # Refused: OMERO holds the OME-TIFF, but not the originals.
    [kept] = remove_local_copies(conn, history, history.uploads(), dry_run=False)
    assert kept.action is Action.KEPT
    assert "not the original 64x64_TEM_images_acquire.emi" in kept.reason
    assert emi.exists() and ser.exists()
    # With the originals back on the server, the sources may go.
    with sandbox.state.lock:
        sandbox.state.objects["ImageAnnotationLink"].update(saved)
    [removed] = remove_local_copies(conn, history, history.uploads(), dry_run=False)
    assert removed.action is Action.REMOVED, removed.reason
    assert "each original" in removed.reason
    assert not emi.exists() and not ser.exists()


def test_removal_refused_when_an_original_on_omero_differs(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path, history: History
) -> None:
    from omero.rtypes import rstring

    emi, ser = (Path(shutil.copy(samples / n, tmp_path)) for n in TIA)
    _run(conn, history, emi)
    [stored_ser] = [
        f for f in sandbox.objects("OriginalFile") if f.getName().getValue() == ser.name
    ]
    stored_ser.setHash(rstring("0" * 40))
    [kept] = remove_local_copies(conn, history, history.uploads(), dry_run=False)
    assert kept.action is Action.KEPT
    assert ser.name in kept.reason
    assert ser.exists()


def test_failed_attachment_is_this_files_error_and_retry_attaches(
    conn: om.Connection,
    sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
    history: History,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cci_uploader.converted as converted

    path = Path(shutil.copy(samples / EMD, tmp_path))
    real = converted.upload_original

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(converted, "upload_original", real)
        raise om.ChecksumMismatch("OMERO received different bytes (test).")

    monkeypatch.setattr(converted, "upload_original", fails_once)
    queue = ImportQueue(plan(scan_paths([path], Config()), Config(), []), history=history)
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.ERROR
    assert "could not be attached" in entry.message and "press Retry" in entry.message
    assert _attachments(sandbox) == {}
    filesets = len(sandbox.objects("Fileset"))
    assert [e.index for e in queue.retry_failed()] == [0]
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.DUPLICATE, entry.message
    assert len(sandbox.objects("Fileset")) == filesets  # nothing imported twice
    assert set(_attachments(sandbox)) == set(entry.image_ids)
