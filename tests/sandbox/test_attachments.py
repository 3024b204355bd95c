"""The stand-in's RawFileStore for attachments follows RawFileBean, never the client."""

from __future__ import annotations

import hashlib
from pathlib import Path

import omero
import omero.model
import pytest
from omero.rtypes import rlong, rstring

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer


def _new_file(conn: om.Connection, *, hasher: bool, claimed_hash: str | None = None) -> int:
    ofile = omero.model.OriginalFileI()
    ofile.setName(rstring("spectrum.emd"))
    ofile.setPath(rstring("x/"))
    ofile.setSize(rlong(0))
    if claimed_hash:
        ofile.setHash(rstring(claimed_hash))
    if hasher:
        algorithm = omero.model.ChecksumAlgorithmI()
        algorithm.setValue(rstring("SHA1-160"))
        ofile.setHasher(algorithm)
    saved = conn.gateway.getUpdateService().saveAndReturnObject(ofile)
    return int(saved.getId().getValue())


def _write(conn: om.Connection, file_id: int, data: bytes) -> object:
    store = conn.gateway.c.sf.createRawFileStore()
    try:
        store.setFileId(file_id)
        store.write(data, 0, len(data))
        return store.save()
    finally:
        store.close()


def test_save_computes_the_sha1_when_a_hasher_is_set(conn: om.Connection) -> None:
    data = b"velox" * 1000
    file_id = _new_file(conn, hasher=True, claimed_hash="1" * 40)
    saved = _write(conn, file_id, data)
    assert saved.getHash().getValue() == hashlib.sha1(data).hexdigest()  # type: ignore[attr-defined]
    assert saved.getSize().getValue() == len(data)  # type: ignore[attr-defined]


def test_without_a_hasher_the_clients_hash_stays(conn: om.Connection) -> None:
    """RawFileBean.save hashes only when the file has a hasher: a bare claim is not checked."""
    file_id = _new_file(conn, hasher=False, claimed_hash="1" * 40)
    saved = _write(conn, file_id, b"abc")
    assert saved.getHash().getValue() == "1" * 40  # type: ignore[attr-defined]


def test_repository_files_cannot_be_opened(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    """RawFileBean.setFileIdWithBuffer refuses a file that lives in a repository."""
    path = tmp_path / "a.czi"
    path.write_bytes((samples / "czi/tiles_z.czi").read_bytes())
    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "P"), "D")
    list(om.import_file(conn, [path], dataset))
    [imported] = sandbox.objects("OriginalFile")
    store = conn.gateway.c.sf.createRawFileStore()
    try:
        with pytest.raises(omero.ApiUsageException):
            store.setFileId(imported.getId().getValue())
    finally:
        store.close()


def test_writing_another_users_file_is_refused(conn: om.Connection, sandbox: SandboxServer) -> None:
    file_id = _new_file(conn, hasher=True)
    with sandbox.state.lock:
        ofile = sandbox.state.get("OriginalFile", file_id)
        ofile.getDetails().setOwner(omero.model.ExperimenterI(sandbox.seed.other_user.id, False))
    store = conn.gateway.c.sf.createRawFileStore()
    try:
        store.setFileId(file_id)
        with pytest.raises(omero.SecurityViolation, match="not writeable"):
            store.write(b"x", 0, 1)
    finally:
        store.close()
