"""Round trips per file: what a batch of small files costs in waited requests.

The stand-in counts every request that arrives (``Registry.requests``).
Counts are not timings: over a network each waited request is a round trip.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import omero

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History

FILES = 20
PAIRS = [("Sample", "S1"), ("Grid", "G2")]
# Sent beside other work, never waited for on their own: the file id asked
# with the first write, the import process's close (waited for only before a
# group switch), and the check of a remembered Dataset, answered while
# importFileset is waited for.
NOT_WAITED = ("RawFileStore.getFileId", "ImportProcess.close")


def _small_files(samples: Path, tmp_path: Path, count: int) -> list[Path]:
    data = (samples / "czi" / "tiles_z.czi").read_bytes()
    paths = []
    for n in range(count):
        path = tmp_path / f"small{n}.czi"
        path.write_bytes(data + n.to_bytes(2, "little"))  # other content, same metadata
        paths.append(path)
    return paths


def _waited(sent: Counter[str], files: int) -> int:
    # Every file but the first finds its Dataset remembered, and each new
    # upload's fileset look-up (for the history) is answered beside its
    # annotation: sent, never waited for on their own.
    checks = files - 1
    return sum(sent.values()) - sum(sent[op] for op in NOT_WAITED) - checks - files


def test_a_batch_of_small_files_costs_ten_waited_requests_each(
    sandbox: SandboxServer, token: str, samples: Path, tmp_path: Path
) -> None:
    paths = _small_files(samples, tmp_path, FILES)
    conn = om.connect(sandbox.address, token)
    before = sandbox.registry.requests()
    try:
        queue = ImportQueue(plan(scan_paths(paths, Config()), Config(), PAIRS), history=History())
        list(queue.run(conn))
    finally:
        conn.close()
    assert [e.status for e in queue.states] == [Status.UPLOADED] * FILES
    sent = sandbox.registry.requests() - before
    oneway = sandbox.registry.requests(oneway=True)

    # Once per connection, not per file: the repository, Project, Dataset, tags.
    assert sent["SharedResources.repositories"] == 1
    assert sent["ManagedRepository.ice_isA"] == 1
    assert sent["QueryService.findAllByQuery"] == 2 + len(PAIRS)
    assert sent["UpdateService.saveAndReturnObject"] == 2 + len(PAIRS)
    # Per file: the import's own requests; the handle's close is one-way.
    for op in (
        "ManagedRepository.importFileset",
        "ImportProcess.getUploader",
        "RawFileStore.write",
        "RawFileStore.close",
        "ImportProcess.verifyUpload",
        *NOT_WAITED,
    ):
        assert sent[op] == FILES, op
    assert oneway["ImportHandle.close"] == FILES
    assert "ImportHandle.close" not in sent
    # Pairs, tags and the acquisition metadata in one save.
    assert sent["UpdateService.saveArray"] == FILES
    # One duplicate query for the batch, the remembered Dataset's check and the
    # history's fileset look-up of each file.
    assert sent["QueryService.projection"] == 1 + (FILES - 1) + FILES
    # One Glacier2 registration per new server object: process, uploader, handle.
    assert sent["Router.addProxies"] <= 3 * FILES + 4
    waited = _waited(sent, FILES)
    print(
        f"\nwaited requests per file, one-offs included: {waited / FILES:.2f} "
        "(before the batch duplicate query, one save and the history look-up "
        "beside it: 13.05 with a history)"
    )
    # An import not finished at the first ask is waited for with a call back:
    # addCallback, CmdCallbackI's own ask and, if finished by then, getStatus.
    called_back = sent["ImportHandle.addCallback"]
    # Ten per file, plus the batch's one-off ones.
    assert waited - 3 * called_back <= 10 * FILES + 25

    # The history holds every upload, with its fileset.
    uploads = History().uploads()
    assert sorted(u.main for u in uploads) == sorted(p.resolve() for p in paths)
    on_server = {
        (i.getFileset().getId().getValue(), i.getId().getValue()) for i in sandbox.objects("Image")
    }
    recorded = {(u.fileset_ids[0], image) for u in uploads for image in u.image_ids}
    assert recorded == on_server

    # And every image got its pairs and tags, once.
    links = sandbox.objects("ImageAnnotationLink")
    assert len(sandbox.objects("Image")) == FILES
    assert len(links) == FILES * (1 + len(PAIRS) + 1)  # pairs, tags, acquisition
    tags = sorted(t.getTextValue().getValue() for t in sandbox.objects("TagAnnotation"))
    assert tags == ["Grid: G2", "Sample: S1"]


# Which end of which link a deleted Project or Dataset is.
_LINK_ENDS = {
    "Project": (("ProjectDatasetLink", "getParent"),),
    "Dataset": (("ProjectDatasetLink", "getChild"), ("DatasetImageLink", "getParent")),
}


def _delete_container(sandbox: SandboxServer, kind: str, obj_id: int) -> None:
    """As a delete in OMERO.web that keeps the contents: the object and its links go."""
    with sandbox.state.lock:
        for link_kind, end in _LINK_ENDS[kind]:
            for link in list(sandbox.state.all(link_kind)):
                if getattr(link, end)().getId().getValue() == obj_id:
                    sandbox.state.delete(link_kind, link.getId().getValue())
        sandbox.state.delete(kind, obj_id)


def test_a_remembered_dataset_deleted_meanwhile_is_created_again(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    first, second, third = _small_files(samples, tmp_path, 3)
    queue = ImportQueue(plan(scan_paths([first], Config()), Config(), PAIRS), history=None)
    list(queue.run(conn))
    [old_dataset] = sandbox.objects("Dataset")
    [old_project] = sandbox.objects("Project")
    _delete_container(sandbox, "Dataset", old_dataset.getId().getValue())
    _delete_container(sandbox, "Project", old_project.getId().getValue())

    queue = ImportQueue(plan(scan_paths([second, third], Config()), Config(), PAIRS), history=None)
    list(queue.run(conn))
    assert [e.status for e in queue.states] == [Status.UPLOADED] * 2, [
        e.message for e in queue.states
    ]
    [dataset] = sandbox.objects("Dataset")
    [project] = sandbox.objects("Project")
    assert dataset.getId().getValue() != old_dataset.getId().getValue()
    assert project.getName().getValue() == old_project.getName().getValue()
    for entry in queue.states:
        [image_id] = entry.image_ids
        assert sandbox.location(image_id) == (
            project.getName().getValue(),
            dataset.getName().getValue(),
        )
    # The Fileset started into the deleted Dataset was deleted, not left behind.
    with_images = {i.getFileset().getId().getValue() for i in sandbox.objects("Image")}
    assert {f.getId().getValue() for f in sandbox.objects("Fileset")} == with_images


def test_a_remembered_tag_deleted_meanwhile_is_found_or_created_again(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    first, second = _small_files(samples, tmp_path, 2)
    list(ImportQueue(plan(scan_paths([first], Config()), Config(), PAIRS), history=None).run(conn))
    gone = next(
        t for t in sandbox.objects("TagAnnotation") if t.getTextValue().getValue() == "Sample: S1"
    )
    sandbox.state.delete("TagAnnotation", gone.getId().getValue())

    queue = ImportQueue(plan(scan_paths([second], Config()), Config(), PAIRS), history=None)
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.UPLOADED, entry.message
    [image_id] = entry.image_ids
    texts = sorted(
        sandbox.state.get("TagAnnotation", link.getChild().getId().getValue())
        .getTextValue()
        .getValue()
        for link in sandbox.objects("ImageAnnotationLink")
        if link.getParent().getId().getValue() == image_id
        and isinstance(link.getChild(), omero.model.TagAnnotationI)
    )
    assert texts == ["Grid: G2", "Sample: S1"]
    assert len(sandbox.objects("TagAnnotation")) == 2  # the deleted one made again, once


def test_ids_are_forgotten_on_a_group_switch(conn: om.Connection, sandbox: SandboxServer) -> None:
    in_lab = om.get_or_create_project(conn, "LSM 980")
    conn.switch_group("Imaging Core")
    in_core = om.get_or_create_project(conn, "LSM 980")
    assert in_core != in_lab
    stored = sandbox.state.get("Project", in_core)
    assert stored.getDetails().getGroup().getId().getValue() == sandbox.seed.core_group.id
    conn.switch_group("Sandbox Lab")
    assert om.get_or_create_project(conn, "LSM 980") == in_lab


def test_a_closed_import_process_does_not_block_the_next_group_switch(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    [path] = _small_files(samples, tmp_path, 1)
    list(ImportQueue(plan(scan_paths([path], Config()), Config(), []), history=None).run(conn))
    # The process's close was sent without waiting; the switch waits for it first.
    assert conn.switch_group("Imaging Core").name == "Imaging Core"
    with sandbox.state.lock:
        assert not sandbox.state.sessions[conn.gateway.c.getSessionId()].stateful


def test_a_long_import_is_not_polled_the_server_calls_back(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    [path] = _small_files(samples, tmp_path, 1)
    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "2024")
    sandbox.faults.import_delay_s = 1.0
    before = sandbox.registry.requests()
    events = list(om.import_file(conn, [path], dataset, poll_s=0.02))
    sent = sandbox.registry.requests() - before
    assert isinstance(events[-1], om.Imported) and len(events[-1].image_ids) == 1
    processing = [e for e in events if isinstance(e, om.Processing)]
    assert len(processing) > 10  # the wait went on, yielding, for many poll periods
    # Asked once, then once more by CmdCallbackI; the end came as a call back.
    assert sent["ImportHandle.getResponse"] == 2
    assert sent["ImportHandle.addCallback"] == 1


def test_a_reconnect_looks_the_repository_and_containers_up_again(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    first, second = _small_files(samples, tmp_path, 2)
    project = om.get_or_create_project(conn, "Scope")
    dataset = om.get_or_create_dataset(conn, project, "2024")
    *_, done = om.import_file(conn, [first], dataset)
    assert isinstance(done, om.Imported)
    conn.reconnect()
    before = sandbox.registry.requests()
    assert om.get_or_create_project(conn, "Scope") == project
    assert om.get_or_create_dataset(conn, project, "2024") == dataset
    *_, done = om.import_file(conn, [second], dataset)
    assert isinstance(done, om.Imported)
    sent = sandbox.registry.requests() - before
    assert sent["QueryService.findAllByQuery"] == 2  # looked up, not remembered
    assert sent["SharedResources.repositories"] == 1  # the old proxy's connection is gone
    assert "QueryService.projection" not in sent  # nothing remembered to check
