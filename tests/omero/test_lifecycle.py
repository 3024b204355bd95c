"""The client's import lifecycle follows the Java importer, and leaves no orphans."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.omero import orphans
from cci_uploader.pipeline import EntryChanged, ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths


def _dataset(conn: om.Connection) -> int:
    return om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "d")


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.czi"
    path.write_bytes(bytes(range(256)) * 4096)
    return path


def _wait_for_images(sandbox: SandboxServer, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(sandbox.objects("Image")) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_import_process_is_closed_right_after_verify_upload(
    conn: om.Connection, sandbox: SandboxServer, token: str, data_file: Path
) -> None:
    # ImportLibrary.importImage closes the process after verifyUpload, so the
    # session's group can change while OMERO imports (checkStatefulServices).
    sandbox.faults.import_delay_s = 0.5
    other = om.connect(sandbox.address, token)  # same token, same session
    try:
        upload = om.import_file(conn, [data_file], _dataset(conn), poll_s=0.05)
        for event in upload:
            if isinstance(event, om.Processing):
                other.switch_group("Imaging Core")
                break
        rest = list(upload)
    finally:
        other.close()
    assert isinstance(rest[-1], om.Imported)
    # Our calls name our group, so the image went where we asked.
    [image] = sandbox.objects("Image")
    assert image.getDetails().getGroup().getId().getValue() == sandbox.seed.lab_group.id


def test_cancel_during_upload_deletes_the_fileset_it_created(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    upload = om.import_file(conn, [data_file], _dataset(conn), chunk_size=64 * 1024)
    next(upload)
    upload.close()
    assert sandbox.objects("Fileset") == []
    assert sandbox.objects("OriginalFile") == []
    assert not orphans.store_path().exists()


def test_an_upload_that_cannot_be_deleted_is_cleaned_by_the_next_connection(
    conn: om.Connection, sandbox: SandboxServer, token: str, data_file: Path
) -> None:
    sandbox.faults.cut_after_bytes = 100_000  # the delete fails with the connection
    with pytest.raises(om.ConnectionLost):
        list(om.import_file(conn, [data_file], _dataset(conn), chunk_size=64 * 1024))
    assert len(sandbox.objects("Fileset")) == 1
    assert orphans.store_path().exists()
    again = om.connect(sandbox.address, token)
    try:
        assert om.clean_unfinished_uploads(again) == 1
    finally:
        again.close()
    assert sandbox.objects("Fileset") == []
    assert om.clean_unfinished_uploads(conn) == 0


def test_a_fileset_with_images_is_never_deleted_as_an_orphan(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    *_, done = om.import_file(conn, [data_file], _dataset(conn))
    assert isinstance(done, om.Imported)
    [ofile] = sandbox.objects("OriginalFile")
    orphans.discard_upload(conn, ofile.getId().getValue())
    assert len(sandbox.objects("Image")) == 1 and len(sandbox.objects("Fileset")) == 1


def test_cancel_while_omero_imports_says_the_image_will_appear(
    conn: om.Connection, sandbox: SandboxServer, samples: Path
) -> None:
    sandbox.faults.import_delay_s = 0.5
    queue = ImportQueue(
        plan(scan_paths([samples / "czi" / "tiles_z.czi"], Config()), Config(), []), history=None
    )
    for event in queue.run(conn):
        if isinstance(event, EntryChanged) and event.state.message == "OMERO is importing":
            queue.cancel()
    [entry] = queue.states
    assert entry.status is Status.ERROR
    assert "still importing" in entry.message and "nothing was imported" not in entry.message
    _wait_for_images(sandbox, 1)
    assert len(sandbox.objects("Image")) == 1  # the handle was not closed: it finished
    sandbox.faults.reset()
    assert [e.index for e in queue.retry_failed()] == [0]
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.DUPLICATE
    assert len(sandbox.objects("Image")) == 1


def test_a_dropped_client_leaves_its_stateful_services_in_the_session(
    sandbox: SandboxServer, token: str, data_file: Path
) -> None:
    # SessionI.cleanServants(false): a half-done upload of a client that went away
    # still blocks a group switch in the session, so our calls carry the group.
    first = om.connect(sandbox.address, token)
    upload = om.import_file(first, [data_file], _dataset(first), chunk_size=64 * 1024)
    next(upload)
    first.gateway.c.getCommunicator().destroy()  # gone without closing anything
    second = om.connect(sandbox.address, token)
    try:
        with pytest.raises(om.GroupSwitchRefused):
            second.switch_group("Imaging Core")
        project = om.get_or_create_project(second, "Works anyway")
        assert sandbox.state.get("Project", project) is not None
    finally:
        second.close()
        upload.close()  # its clean-up cannot reach the server; it is remembered
    assert orphans.store_path().exists()


def test_a_verified_upload_without_images_yet_is_no_orphan(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    # A verifyUpload whose answer was lost looks like an unfinished upload (a fileset
    # without images) until OMERO has imported it: the clean-up must leave it alone.
    sandbox.faults.import_delay_s = 1.0
    upload = om.import_file(conn, [data_file], _dataset(conn), poll_s=0.05)
    file_id = None
    for event in upload:
        if isinstance(event, om.Verifying):
            file_id = event.file_id
        if isinstance(event, om.Processing):
            break
    assert file_id is not None
    assert orphans.upload_verified(conn, file_id)
    assert sandbox.objects("Image") == []
    orphans.discard_upload(conn, file_id)  # what the clean-up of a lost upload calls
    assert len(sandbox.objects("Fileset")) == 1  # kept
    rest = list(upload)
    assert isinstance(rest[-1], om.Imported)
    assert len(sandbox.objects("Image")) == 1


def test_an_upload_never_verified_is_deleted_as_an_orphan(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    upload = om.import_file(conn, [data_file], _dataset(conn), poll_s=0.05)
    file_id = None
    for event in upload:
        if isinstance(event, om.Verifying):
            file_id = event.file_id
            break  # the app stops before verifyUpload goes
    assert file_id is not None
    assert not orphans.upload_verified(conn, file_id)
    upload.close()  # its own clean-up deletes the fileset it made
    assert sandbox.objects("Fileset") == []
    assert not orphans.upload_verified(conn, file_id)  # no fileset: nothing was verified
