"""Server rules for sessions, stateful services, import handles and Delete2, in the stand-in."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import omero
import omero.cmd
import pytest
from omero.gateway import BlitzGateway
from omero.rtypes import rbool, rstring

from cci_uploader.sandbox import SandboxServer


@pytest.fixture
def gateway(sandbox: SandboxServer, token: str) -> Iterator[BlitzGateway]:
    joined = BlitzGateway(host=sandbox.address)
    assert joined.connect(sUuid=token)
    yield joined
    joined.close(hard=False)


def _start(gateway: BlitzGateway, data: bytes, *, dataset: int | None = None) -> Any:
    """importFileset + upload of one file, as a client does; returns the process."""
    fileset = omero.model.FilesetI()
    fileset.linkJob(omero.model.UploadJobI())  # one UploadJob, as importers send
    entry = omero.model.FilesetEntryI()
    entry.setClientPath(rstring("C;/data/cells.czi"))
    fileset.addFilesetEntry(entry)
    settings = omero.grid.ImportSettings()
    settings.doThumbnails = rbool(False)
    algorithm = omero.model.ChecksumAlgorithmI()
    algorithm.setValue(rstring("SHA1-160"))
    settings.checksumAlgorithm = algorithm
    if dataset is not None:
        settings.userSpecifiedTarget = omero.model.DatasetI(dataset, False)
    proc = gateway.c.getManagedRepository().importFileset(fileset, settings)
    store = proc.getUploader(0)
    store.write(data, 0, len(data))
    store.close()
    return proc


def _switch(gateway: BlitzGateway, group_id: int) -> None:
    gateway.c.sf.setSecurityContext(omero.model.ExperimenterGroupI(group_id, False))


def test_rule_keepalive_of_none_returns_false(gateway: BlitzGateway) -> None:
    # ServiceFactoryI.keepAlive: refreshes the session, answers for the proxy given.
    assert gateway.c.sf.keepAlive(None) is False
    assert gateway.c.sf.keepAlive(gateway.c.sf.getQueryService()) is True


def test_rule_closing_an_unverified_process_leaves_fileset_and_bytes(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # RepositoryDaoImpl.saveFileset saves everything up front; nothing deletes it.
    _start(gateway, b"partial").close()
    [fileset] = sandbox.objects("Fileset")
    [ofile] = sandbox.objects("OriginalFile")
    assert sandbox.state.files[ofile.getId().getValue()].size == len(b"partial")
    assert fileset.getId() is not None and sandbox.objects("Image") == []


def test_rule_closing_an_unfinished_handle_cancels_the_import(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # HandleI.close calls cancel(): the import stops; the Fileset and files stay.
    sandbox.faults.import_delay_s = 0.5
    data = b"x" * 1000
    proc = _start(gateway, data)
    handle = proc.verifyUpload([hashlib.sha1(data).hexdigest()])
    proc.close()
    handle.close()
    time.sleep(1.0)  # longer than the import would have taken
    assert sandbox.objects("Image") == []
    assert len(sandbox.objects("Fileset")) == 1
    assert len(sandbox.objects("OriginalFile")) == 1


def test_rule_a_finished_handle_carries_images_in_pixels_and_objects(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # ManagedImportRequestI.buildResponse: ImportResponse.pixels and .objects.
    data = b"y" * 1000
    proc = _start(gateway, data)
    handle = proc.verifyUpload([hashlib.sha1(data).hexdigest()])
    proc.close()
    while (response := handle.getResponse()) is None:
        time.sleep(0.01)
    handle.close()
    [image] = sandbox.objects("Image")
    assert [p.getImage().getId().getValue() for p in response.pixels] == [image.getId().getValue()]
    assert [o.getId().getValue() for o in response.objects] == [image.getId().getValue()]


def test_rule_group_switch_is_refused_while_a_stateful_service_is_open(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # SessionManagerI.checkStatefulServices: an open ImportProcess cancels the switch.
    core = sandbox.seed.core_group.id
    proc = _start(gateway, b"z")
    with pytest.raises(omero.SecurityViolation, match="active stateful services"):
        _switch(gateway, core)
    proc.close()
    _switch(gateway, core)
    assert gateway.getAdminService().getEventContext().groupId == core


def test_rule_an_open_raw_file_store_also_blocks_the_switch(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    fileset = omero.model.FilesetI()
    fileset.linkJob(omero.model.UploadJobI())  # one UploadJob, as importers send
    entry = omero.model.FilesetEntryI()
    entry.setClientPath(rstring("d/f.czi"))
    fileset.addFilesetEntry(entry)
    settings = omero.grid.ImportSettings()
    algorithm = omero.model.ChecksumAlgorithmI()
    algorithm.setValue(rstring("SHA1-160"))
    settings.checksumAlgorithm = algorithm
    proc = gateway.c.getManagedRepository().importFileset(fileset, settings)
    store = proc.getUploader(0)
    proc.close()
    with pytest.raises(omero.SecurityViolation):
        _switch(gateway, sandbox.seed.core_group.id)
    store.close()
    _switch(gateway, sandbox.seed.core_group.id)


def test_rule_the_group_belongs_to_the_session(
    sandbox: SandboxServer, token: str, gateway: BlitzGateway
) -> None:
    # Two clients joined with one token share the session's group; an upload
    # open in one blocks a switch in the other.
    second = BlitzGateway(host=sandbox.address)
    assert second.connect(sUuid=token)
    try:
        _switch(second, sandbox.seed.core_group.id)
        assert gateway.getAdminService().getEventContext().groupName == "Imaging Core"
        proc = _start(gateway, b"q")
        with pytest.raises(omero.SecurityViolation):
            _switch(second, sandbox.seed.lab_group.id)
        proc.close()
    finally:
        second.close(hard=False)


def test_rule_a_full_repository_fails_at_close(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # RawFileBean.save/close: sanityCheckRepository raises ResourceError.
    sandbox.faults.repository_full = True
    fileset = omero.model.FilesetI()
    fileset.linkJob(omero.model.UploadJobI())  # one UploadJob, as importers send
    entry = omero.model.FilesetEntryI()
    entry.setClientPath(rstring("d/f.czi"))
    fileset.addFilesetEntry(entry)
    settings = omero.grid.ImportSettings()
    algorithm = omero.model.ChecksumAlgorithmI()
    algorithm.setValue(rstring("SHA1-160"))
    settings.checksumAlgorithm = algorithm
    proc = gateway.c.getManagedRepository().importFileset(fileset, settings)
    store = proc.getUploader(0)
    store.write(b"abc", 0, 3)
    with pytest.raises(omero.ResourceError, match="full"):
        store.close()
    proc.close()


def _delete(gateway: BlitzGateway, fileset_id: int) -> Any:
    handle = gateway.c.sf.submit(omero.cmd.Delete2(targetObjects={"Fileset": [fileset_id]}))
    try:
        while (response := handle.getResponse()) is None:
            time.sleep(0.01)
    finally:
        handle.close()
    return response


def _tag(gateway: BlitzGateway, text: str, group: int) -> int:
    tag = omero.model.TagAnnotationI()
    tag.setTextValue(rstring(text))
    saved = gateway.getUpdateService().saveAndReturnObject(tag, {"omero.group": str(group)})
    return int(saved.getId().getValue())


def _imported_with_tags(sandbox: SandboxServer, gateway: BlitzGateway) -> int:
    """An image in the read-annotate group, tagged "mine" and the colleague's "theirs"."""
    core = sandbox.seed.core_group.id
    _switch(gateway, core)
    data = b"w" * 100
    proc = _start(gateway, data)
    handle = proc.verifyUpload([hashlib.sha1(data).hexdigest()])
    proc.close()
    while handle.getResponse() is None:
        time.sleep(0.01)
    handle.close()
    [image] = sandbox.objects("Image")
    colleague = BlitzGateway(host=sandbox.address)
    assert colleague.connect(sUuid=sandbox.new_token(sandbox.seed.colleague))
    try:
        theirs = _tag(colleague, "theirs", core)
    finally:
        colleague.close(hard=False)
    links = []
    for tag_id in (_tag(gateway, "mine", core), theirs):
        link = omero.model.ImageAnnotationLinkI()
        link.setParent(omero.model.ImageI(image.getId().getValue(), False))
        link.setChild(omero.model.TagAnnotationI(tag_id, False))
        links.append(link)
    gateway.getUpdateService().saveArray(links)
    return int(image.getFileset().getId().getValue())


def test_rule_delete_takes_the_owners_orphaned_tags(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # blitz-delete-rules.xml: the deleting user's tags left linked to nothing go.
    fileset_id = _imported_with_tags(sandbox, gateway)
    response = _delete(gateway, fileset_id)
    assert isinstance(response, omero.cmd.Delete2Response)
    assert [t.getTextValue().getValue() for t in sandbox.objects("TagAnnotation")] == ["theirs"]
    assert sandbox.objects("Image") == [] and sandbox.objects("Fileset") == []


def test_rule_file_delete_fail_comes_after_the_rows_are_gone(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # Delete2I.buildResponse: deleteFiles fails after the transaction: ERR, rows gone.
    fileset_id = _imported_with_tags(sandbox, gateway)
    sandbox.faults.delete_files_fail = True
    response = _delete(gateway, fileset_id)
    assert isinstance(response, omero.cmd.ERR) and response.name == "file-delete-fail"
    assert sandbox.objects("Image") == [] and sandbox.objects("Fileset") == []


def test_a_celldiscoverer_czi_with_wells_makes_a_plate_and_stays_in_the_dataset(
    conn: Any, sandbox: SandboxServer, samples: Any
) -> None:
    # ZeissCZIReader fills a Plate (sample-holder template with rows, columns and
    # well positions); the reader is not HCS, so TargetProcessor still links the
    # images to the Dataset, and the Plate is saved in no Screen.
    from cci_uploader import omero as om

    path = samples / "czi" / "czitools_WellD6_S1.czi"
    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "CD7"), "d")
    *_, done = om.import_file(conn, [path], dataset)
    assert isinstance(done, om.Imported)
    [plate] = sandbox.objects("Plate")
    assert (plate.getRows().getValue(), plate.getColumns().getValue()) == (8, 12)
    [well] = sandbox.objects("Well")
    assert (well.getRow().getValue(), well.getColumn().getValue()) == (3, 5)  # "4-6": D6
    [sample] = sandbox.objects("WellSample")
    [image_id] = done.image_ids
    assert sample.getImage().getId().getValue() == image_id
    assert sandbox.location(image_id) == ("CD7", "d")


def test_an_ordinary_czi_makes_no_plate(conn: Any, sandbox: SandboxServer, samples: Any) -> None:
    from cci_uploader import omero as om

    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "P"), "d")
    list(om.import_file(conn, [samples / "czi" / "tiles_z.czi"], dataset))
    assert sandbox.objects("Plate") == [] and len(sandbox.objects("Image")) == 1


@pytest.mark.parametrize("chunk", [61, 65536, 10**9])
def test_plate_layout_is_found_across_chunk_boundaries(samples: Any, chunk: int) -> None:
    from cci_uploader.sandbox.plates import PlateSniffer

    data = (samples / "czi" / "CD_s_1_t_3_c_2_z_5.czi").read_bytes()
    sniffer = PlateSniffer()
    for start in range(0, len(data), chunk):
        sniffer.feed(data[start : start + chunk])
    assert (sniffer.rows, sniffer.columns) == (16, 24)  # as Bio-Formats reports it
    assert sniffer.wells[0] == (8, 11)  # "9-12"


def test_rule_group_switch_is_refused_while_a_method_of_the_session_runs(
    sandbox: SandboxServer, token: str, gateway: BlitzGateway
) -> None:
    # SessionManagerImpl.setSecurityContext: "N methods active. Aborting!".
    import threading

    second = BlitzGateway(host=sandbox.address)  # another client of the same session
    assert second.connect(sUuid=token)
    try:
        sandbox.faults.hold["getEventContext"] = 1.0
        slow = threading.Thread(target=gateway.getAdminService().getEventContext)
        slow.start()
        deadline = time.monotonic() + 10
        while not sandbox.state.sessions[token].active_calls and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(omero.SecurityViolation, match="1 methods active"):
            _switch(second, sandbox.seed.core_group.id)
        slow.join()
        _switch(second, sandbox.seed.core_group.id)
    finally:
        second.close(hard=False)


def _fileset_with(*jobs: Any) -> Any:
    fileset = omero.model.FilesetI()
    entry = omero.model.FilesetEntryI()
    entry.setClientPath(rstring("d/jobs.czi"))
    fileset.addFilesetEntry(entry)
    for job in jobs:
        fileset.linkJob(job)
    return fileset


def _sha1_settings() -> Any:
    settings = omero.grid.ImportSettings()
    algorithm = omero.model.ChecksumAlgorithmI()
    algorithm.setValue(rstring("SHA1-160"))
    settings.checksumAlgorithm = algorithm
    return settings


def _running_job() -> Any:
    job = omero.model.UploadJobI()
    status = omero.model.JobStatusI()
    status.setValue(rstring("Running"))
    job.setStatus(status)
    return job


@pytest.mark.parametrize(
    ("jobs", "error"),
    [
        ((), omero.ValidationException),
        ((omero.model.UploadJobI(), omero.model.UploadJobI()), omero.ValidationException),
        ((omero.model.MetadataImportJobI(),), omero.ValidationException),
        ((_running_job(),), omero.ApiUsageException),
    ],
    ids=["no job", "two jobs", "not an upload job", "already running"],
)
def test_rule_an_import_carries_one_upload_job_not_yet_run(
    gateway: BlitzGateway, jobs: tuple[Any, ...], error: type[Exception]
) -> None:
    # ManagedRepositoryI.createImportProcess checks the links; JobBean.submit the status.
    with pytest.raises(error):
        gateway.c.getManagedRepository().importFileset(_fileset_with(*jobs), _sha1_settings())


def _upload_job_status(sandbox: SandboxServer) -> list[str]:
    return [j.getStatus().getValue().getValue() for j in sandbox.objects("UploadJob")]


def test_rule_verify_upload_finishes_the_upload_job(
    sandbox: SandboxServer, gateway: BlitzGateway
) -> None:
    # JobBean.submit: "Submitted"; ManagedImportProcessI.verifyUpload: "Finished" once
    # the checksums pass, before the import is submitted.
    data = b"cells"
    proc = _start(gateway, data)
    assert _upload_job_status(sandbox) == ["Submitted"]
    with pytest.raises(omero.ChecksumValidationException):
        proc.verifyUpload(["0" * 40])
    assert _upload_job_status(sandbox) == ["Submitted"]
    proc.verifyUpload([hashlib.sha1(data).hexdigest()]).close()
    assert _upload_job_status(sandbox) == ["Finished"]
