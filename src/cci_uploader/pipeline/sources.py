"""A converted file's sources: found on OMERO before converting, attached after importing.

Two steps of :class:`~cci_uploader.pipeline.steps.FileJob` for formats that are
converted: the sources are hashed once and looked up first, so nothing already
on OMERO is converted again; after the history record, the sources are
attached to the new images as original files.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cci_uploader import omero as om
from cci_uploader.converted import Source, attach_sources, find_on_server
from cci_uploader.hashing import file_sha1
from cci_uploader.pipeline import lookahead
from cci_uploader.pipeline.state import CHECKING, Status
from cci_uploader.stewardship.recording import FilesetUpload

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cci_uploader.pipeline.state import QueueEvent
    from cci_uploader.pipeline.steps import FileJob

log = logging.getLogger(__name__)


def dedupe_sources(job: FileJob) -> Iterator[QueueEvent]:
    """A converted file: end as a duplicate if its sources are already on OMERO."""
    yield job.change(status=Status.UPLOADING, message=CHECKING)
    yield from lookahead.hashed_sources(job)  # hashed ahead, if it was
    if job.ended:
        return
    scan = job.file.scan
    if not job.sources:
        paths = (scan.path.resolve(), *(c.resolve() for c in scan.companions))
        job.sources = [Source(p, p.stat().st_size, file_sha1(p)) for p in paths]
    job.change(
        sha1=job.sources[0].sha1,
        source_sha1s=tuple((s.path, s.sha1) for s in job.sources),
    )
    found = find_on_server(job.conn, job.sources, job.settings.history)
    if found is None:
        return
    job.ended = True
    if not found.attached:
        # Converted by an older version of the app: attach the originals now.
        yield job.change(status=Status.UPLOADING, message="attaching the original files")
        job.change(total_bytes=sum(s.size for s in job.sources))
        for done in attach_sources(job.conn, found.image_ids, job.sources):
            yield job.change(done_bytes=done)
    ids = ", ".join(str(i) for i in found.image_ids)
    job.change(
        image_ids=found.image_ids,
        status=Status.DUPLICATE,
        message=f"already on the server (image {ids})",
    )
    try:  # a duplicate gets the batch pairs it lacks, as a new upload does
        om.annotate(job.conn, list(found.image_ids), job.file.pairs)
    except (om.SessionExpired, om.ConnectionLost):
        raise
    except om.OmeroError as exc:
        log.warning("annotating %s failed", scan.path, exc_info=True)
        job.change(status=Status.ERROR, message=f"already on the server, but {exc}")
    sha1 = job.sources[0].sha1
    job.verified = [FilesetUpload((), sha1, found.image_ids, True, found.stored)]
    job.record()
    yield job.change()


def attach_originals(job: FileJob) -> Iterator[QueueEvent]:
    """Attach a converted file's sources to its images; a failure is this file's."""
    status, message = job.state.status, job.state.message
    job.change(status=Status.UPLOADING, message="attaching the original files")
    base = job.state.done_bytes
    try:
        for done in attach_sources(
            job.conn,
            job.image_ids or job.duplicates,
            job.sources,
            chunk_size=job.settings.chunk_size,
        ):
            yield job.change(done_bytes=base + done)
    except (om.SessionExpired, om.ConnectionLost):
        raise
    except (om.OmeroError, OSError) as exc:
        log.exception("attaching the originals of %s failed", job.file.path)
        job.change(
            status=Status.ERROR,
            message=f"{message}, but its original files could not be attached ({exc}); "
            "press Retry to attach them",
        )
        return
    job.change(status=status, message=message)
