"""What was acquired, as a key-value annotation in the app's own namespace.

OMERO.web lets users edit key-value pairs only in the client namespace
(``omero.constants.metadata.NSCLIENTMAPANNOTATION``); pairs in any other
namespace are shown read-only, so what the file says was acquired stays as
the file said it. Users filter on these keys (Objective, Immersion, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import omero
import omero.model
from omero.rtypes import rstring

from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.omero.connection import Connection

ACQUISITION_NS = "se.gu.cci/omero-uploader/acquisition"
"""Namespace of the acquisition-metadata MapAnnotation (read-only in OMERO.web)."""


def annotate_acquisition(
    conn: Connection, image_ids: Sequence[int], pairs: Sequence[tuple[str, str]]
) -> None:
    """Link one MapAnnotation of ``pairs`` in :data:`ACQUISITION_NS` to each image."""
    if not image_ids or not pairs:
        return
    links = []
    for image_id in image_ids:
        annotation = omero.model.MapAnnotationI()
        annotation.setNs(rstring(ACQUISITION_NS))
        annotation.setMapValue([omero.model.NamedValue(k, v) for k, v in pairs])
        link = omero.model.ImageAnnotationLinkI()
        link.setParent(omero.model.ImageI(image_id, False))
        link.setChild(annotation)
        links.append(link)
    with translate_errors("adding the acquisition metadata"):
        conn.gateway.getUpdateService().saveArray(links, conn.gateway.SERVICE_OPTS)
