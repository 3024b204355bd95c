"""Every server refusal becomes a plain message of ours, and the queue goes on."""

from __future__ import annotations

from pathlib import Path

import omero
import pytest
from omero.gateway import BlitzGateway
from omero.rtypes import rstring

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths


def _server_error(kind: type[omero.ServerError], message: str) -> omero.ServerError:
    return kind(serverStackTrace="", serverExceptionClass=kind.__name__, message=message)


def _dataset(conn: om.Connection) -> int:
    return om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "d")


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.czi"
    path.write_bytes(b"c" * 300_000)
    return path


@pytest.mark.parametrize(
    ("server_class", "ours", "says"),
    [
        (omero.SecurityViolation, om.PermissionRefused, "you do not have permission"),
        (omero.ResourceError, om.StorageFull, "storage is full"),
        (omero.ValidationException, om.ServerRefused, "as invalid"),
        (omero.ApiUsageException, om.ServerRefused, "refused a request"),
        (omero.InternalException, om.ServerRefused, "internal error"),
        (omero.OverUsageException, om.ServerRefused, "overloaded"),
    ],
)
@pytest.mark.parametrize("operation", ["importFileset", "saveAndReturnObject", "projection"])
def test_server_refusals_become_plain_one_line_messages(
    conn: om.Connection,
    sandbox: SandboxServer,
    data_file: Path,
    server_class: type[omero.ServerError],
    ours: type[om.OmeroError],
    says: str,
    operation: str,
) -> None:
    sandbox.faults.refuse(operation, _server_error(server_class, "first line\nsecond line"))
    with pytest.raises(ours) as raised:
        dataset = _dataset(conn)
        om.find_duplicate(conn, data_file, "0" * 40, 1)
        list(om.import_file(conn, [data_file], dataset))
    text = str(raised.value)
    assert says in text and "first line second line" in text
    assert "\n" not in text and "Traceback" not in text


def test_a_full_repository_is_not_called_a_checksum_mismatch(
    conn: om.Connection, sandbox: SandboxServer, data_file: Path
) -> None:
    # RawFileBean.close: ResourceError from sanityCheckRepository.
    sandbox.faults.repository_full = True
    with pytest.raises(om.StorageFull, match="storage is full"):
        list(om.import_file(conn, [data_file], _dataset(conn)))
    assert sandbox.objects("Image") == []


def test_a_refused_group_switch_is_a_clear_message(
    conn: om.Connection, sandbox: SandboxServer, token: str
) -> None:
    # SessionManagerI.checkStatefulServices: another client of the same session
    # (the same token) has an upload open.
    other = BlitzGateway(host=sandbox.address)
    assert other.connect(sUuid=token)
    try:
        fileset = omero.model.FilesetI()
        fileset.linkJob(omero.model.UploadJobI())  # one UploadJob, as importers send
        entry = omero.model.FilesetEntryI()
        entry.setClientPath(rstring("d/f.czi"))
        fileset.addFilesetEntry(entry)
        settings = omero.grid.ImportSettings()
        algorithm = omero.model.ChecksumAlgorithmI()
        algorithm.setValue(rstring("SHA1-160"))
        settings.checksumAlgorithm = algorithm
        proc = other.c.getManagedRepository().importFileset(fileset, settings)
        with pytest.raises(om.GroupSwitchRefused, match="upload is still open"):
            conn.switch_group("Imaging Core")
        assert conn.group_name == "Sandbox Lab"
        proc.close()
        conn.switch_group("Imaging Core")
    finally:
        other.close(hard=False)


def test_security_violation_mid_queue_fails_that_file_and_the_next_are_imported(
    conn: om.Connection, samples: Path, tmp_path: Path, sandbox: SandboxServer
) -> None:
    data = (samples / "czi" / "tiles_z.czi").read_bytes()
    paths = []
    for n in range(3):
        path = tmp_path / f"copy{n}.czi"
        path.write_bytes(data + bytes([n]))
        paths.append(path)
    queue = ImportQueue(
        plan(scan_paths(paths, Config()), Config(), [("Sample", "S1")]), history=None
    )
    sandbox.faults.refuse(
        "importFileset",
        _server_error(omero.SecurityViolation, "Group is rwr---. Cannot link to object"),
        after=1,
    )
    list(queue.run(conn))
    first, second, third = queue.states
    assert (first.status, second.status, third.status) == (
        Status.UPLOADED,
        Status.ERROR,
        Status.UPLOADED,
    )
    assert "\n" not in second.message
    assert second.message.startswith("OMERO refused starting the import")
    assert "Something went wrong" not in second.message
    assert len(sandbox.objects("Image")) == 2
