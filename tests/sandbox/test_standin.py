"""The stand-in speaks OMERO's protocol to the unmodified omero-py client."""

from __future__ import annotations

import time

import Glacier2
import omero
import pytest
from omero.gateway import BlitzGateway
from omero.rtypes import rstring

from cci_uploader.sandbox import SandboxServer


def _join(sandbox: SandboxServer, token: str) -> BlitzGateway:
    gateway = BlitzGateway(host=sandbox.address)
    assert gateway.connect(sUuid=token)
    return gateway


def test_starts_well_under_a_second() -> None:
    start = time.perf_counter()
    server = SandboxServer()
    elapsed = time.perf_counter() - start
    server.stop()
    assert elapsed < 1.0


def test_token_maps_to_its_user(sandbox: SandboxServer) -> None:
    other = sandbox.new_token(sandbox.seed.other_user)
    gateway = _join(sandbox, other)
    try:
        ctx = gateway.getEventContext()
        assert (ctx.userName, ctx.groupName) == ("other", "Other Lab")
        assert ctx.sessionUuid == other
    finally:
        gateway.close(hard=False)


def test_unknown_token_is_refused(sandbox: SandboxServer) -> None:
    client = omero.client(sandbox.address)
    try:
        with pytest.raises(Glacier2.PermissionDeniedException):
            client.joinSession("not-a-token")
    finally:
        client.__del__()


def test_unsupported_query_fails_loudly(sandbox: SandboxServer, token: str) -> None:
    gateway = _join(sandbox, token)
    try:
        with pytest.raises(omero.InternalException, match="does not implement the query"):
            gateway.getQueryService().findAllByQuery("select i from Image i", None)
    finally:
        gateway.close(hard=False)


@pytest.mark.timeout(20)
def test_unimplemented_amd_and_sync_operations_fail_instead_of_hanging(
    sandbox: SandboxServer, token: str
) -> None:
    gateway = _join(sandbox, token)
    try:
        with pytest.raises(omero.InternalException, match=r"IAdmin\.lookupGroups"):
            gateway.getAdminService().lookupGroups()  # AMD on the server
        with pytest.raises(omero.InternalException, match=r"ServiceFactory\.createSearchService"):
            gateway.c.sf.createSearchService()  # synchronous on the server
    finally:
        gateway.close(hard=False)


def test_saved_objects_get_owner_and_group(sandbox: SandboxServer, token: str) -> None:
    gateway = _join(sandbox, token)
    try:
        project = omero.model.ProjectI()
        project.setName(rstring("P"))
        saved = gateway.getUpdateService().saveAndReturnObject(project)
        details = saved.getDetails()
        assert details.getOwner().getId().getValue() == sandbox.seed.demo_user.id
        assert details.getGroup().getId().getValue() == sandbox.seed.lab_group.id
        assert [p.getName().getValue() for p in sandbox.objects("Project")] == ["P"]
    finally:
        gateway.close(hard=False)


def test_expired_session_refuses_calls_and_rejoining(sandbox: SandboxServer, token: str) -> None:
    gateway = _join(sandbox, token)
    try:
        sandbox.expire(token)
        with pytest.raises(omero.RemovedSessionException):
            gateway.getAdminService().getEventContext()
    finally:
        gateway.close(hard=False)
    refused = BlitzGateway(host=sandbox.address)
    try:
        assert not refused.connect(sUuid=token)
    finally:
        refused.c.__del__()


def test_soft_close_keeps_the_session(sandbox: SandboxServer, token: str) -> None:
    _join(sandbox, token).close(hard=False)
    again = _join(sandbox, token)
    again.close(hard=False)


def test_stored_file_hashes_on_arrival_and_refuses_out_of_order_writes() -> None:
    import hashlib

    from cci_uploader.sandbox.state import StoredFile

    kept, hashed_only = StoredFile(keep=True), StoredFile()
    for stored in (kept, hashed_only):
        for offset, part in ((0, b"abc"), (3, b"def"), (6, b"g")):
            stored.write(part, offset)
        assert stored.hexdigest() == hashlib.sha1(b"abcdefg").hexdigest()
        assert stored.size == 7
    assert kept.data == b"abcdefg"
    with pytest.raises(ValueError, match="not kept"):
        _ = hashed_only.data
    with pytest.raises(omero.ApiUsageException, match="in order only"):
        hashed_only.write(b"x", 3)
