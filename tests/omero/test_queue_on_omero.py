"""The queue against the stricter stand-in: the issue's acceptance runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import omero
from omero.gateway import BlitzGateway
from omero.rtypes import rstring

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.omero.acquisition import ACQUISITION_NS
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths

SAMPLE = ("Sample", "Mouse 12")


def _snapshot(sandbox: SandboxServer) -> dict[str, set[int]]:
    with sandbox.state.lock:
        return {k: set(v) for k, v in sandbox.state.objects.items()}


def _colleagues_tag(sandbox: SandboxServer, text: str) -> int:
    gateway = BlitzGateway(host=sandbox.address)
    assert gateway.connect(sUuid=sandbox.new_token(sandbox.seed.colleague))
    try:
        tag = omero.model.TagAnnotationI()
        tag.setTextValue(rstring(text))
        ctx = {"omero.group": str(sandbox.seed.lab_group.id)}
        return int(gateway.getUpdateService().saveAndReturnObject(tag, ctx).getId().getValue())
    finally:
        gateway.close(hard=False)


def _annotations(sandbox: SandboxServer, image_id: int) -> list[Any]:
    return [
        sandbox.state.get(type(link.getChild()).__name__[:-1], link.getChild().getId().getValue())
        for link in sandbox.objects("ImageAnnotationLink")
        if link.getParent().getId().getValue() == image_id
    ]


def test_czi_samples_into_a_read_only_group_with_a_colleagues_tag(
    conn: om.Connection, sandbox: SandboxServer, samples: Path
) -> None:
    assert sandbox.seed.lab_group.permissions == "rwr---" and conn.group_name == "Sandbox Lab"
    theirs = _colleagues_tag(sandbox, om.tag_text(*SAMPLE))
    queue = ImportQueue(
        plan(scan_paths([samples / "czi"], Config()), Config(), [SAMPLE]), history=None
    )
    list(queue.run(conn))
    assert {e.status for e in queue.states} == {Status.UPLOADED}, [e.message for e in queue.states]
    images = sandbox.objects("Image")
    assert len(images) >= len(queue.states) >= 5
    for image in images:
        annotations = _annotations(sandbox, image.getId().getValue())
        maps = [a for a in annotations if type(a).__name__ == "MapAnnotationI"]
        # The batch pairs, and the read-only acquisition record in our own namespace.
        assert sorted(a.getNs().getValue() for a in maps) == sorted([om.CLIENT_NS, ACQUISITION_NS])
        [pairs] = [a for a in maps if a.getNs().getValue() == om.CLIENT_NS]
        assert (SAMPLE[0], SAMPLE[1]) in [(nv.name, nv.value) for nv in pairs.getMapValue()]
        [tag] = [
            a
            for a in annotations
            if type(a).__name__ == "TagAnnotationI"
            and a.getTextValue().getValue() == om.tag_text(*SAMPLE)
        ]
        # A tag the user may link in rwr---: their own, not the colleague's.
        assert tag.getId().getValue() != theirs
        assert tag.getDetails().getOwner().getId().getValue() == conn.user_id
    before = _snapshot(sandbox)
    again = ImportQueue(
        plan(scan_paths([samples / "czi"], Config()), Config(), [SAMPLE]), history=None
    )
    list(again.run(conn))
    assert {e.status for e in again.states} == {Status.DUPLICATE}
    assert _snapshot(sandbox) == before  # the second run created nothing


def test_pairs_refused_after_import_are_red_and_retry_attaches_them(
    conn: om.Connection, sandbox: SandboxServer, samples: Path
) -> None:
    queue = ImportQueue(
        plan(scan_paths([samples / "czi" / "tiles_z.czi"], Config()), Config(), [SAMPLE]),
        history=None,
    )
    refusal = omero.SecurityViolation(serverStackTrace="", serverExceptionClass="", message="no")
    sandbox.faults.refuse("saveArray", refusal)  # the pairs' call
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.ERROR
    assert entry.message.startswith("imported, but the key-value pairs could not be attached")
    [image] = sandbox.objects("Image")
    assert _annotations(sandbox, image.getId().getValue()) == []
    assert [e.index for e in queue.retry_failed()] == [0]
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.DUPLICATE
    assert len(sandbox.objects("Image")) == 1
    kinds = sorted(type(a).__name__ for a in _annotations(sandbox, image.getId().getValue()))
    assert kinds == ["MapAnnotationI", "TagAnnotationI"]


def test_a_duplicate_gets_the_batch_pairs_it_lacks(
    conn: om.Connection, sandbox: SandboxServer, samples: Path
) -> None:
    path = samples / "czi" / "tiles_z.czi"
    list(
        ImportQueue(plan(scan_paths([path], Config()), Config(), [SAMPLE]), history=None).run(conn)
    )
    queue = ImportQueue(
        plan(scan_paths([path], Config()), Config(), [SAMPLE, ("Grid", "3")]), history=None
    )
    list(queue.run(conn))
    assert queue.states[0].status is Status.DUPLICATE
    [image] = sandbox.objects("Image")
    pairs = sorted(
        (nv.name, nv.value)
        for a in _annotations(sandbox, image.getId().getValue())
        if type(a).__name__ == "MapAnnotationI" and a.getNs().getValue() == om.CLIENT_NS
        for nv in a.getMapValue()
    )
    assert pairs == [("Grid", "3"), SAMPLE]
