"""What was acquired, as a key-value annotation in the app's own namespace.

OMERO.web lets users edit key-value pairs only in the client namespace
(``omero.constants.metadata.NSCLIENTMAPANNOTATION``); pairs in any other
namespace are shown read-only, so what the file says was acquired stays as
the file said it. Users filter on these keys (Objective, Immersion, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import omero
import omero.model
from omero.rtypes import rstring

from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.omero.connection import Connection

ACQUISITION_NS = "se.gu.cci/omero-uploader/acquisition"
"""Namespace of the acquisition-metadata MapAnnotation (read-only in OMERO.web)."""


def acquisition_links(image_ids: Sequence[int], pairs: Sequence[tuple[str, str]]) -> list[Any]:
    """New links of one MapAnnotation of ``pairs`` in :data:`ACQUISITION_NS` to each image."""
    links = []
    for image_id in image_ids if pairs else ():
        annotation = omero.model.MapAnnotationI()
        annotation.setNs(rstring(ACQUISITION_NS))
        annotation.setMapValue([omero.model.NamedValue(k, v) for k, v in pairs])
        link = omero.model.ImageAnnotationLinkI()
        link.setParent(omero.model.ImageI(image_id, False))
        link.setChild(annotation)
        links.append(link)
    return links


def annotate_acquisition(
    conn: Connection, image_ids: Sequence[int], pairs: Sequence[tuple[str, str]]
) -> None:
    """Link one MapAnnotation of ``pairs`` in :data:`ACQUISITION_NS` to each image."""
    links = acquisition_links(image_ids, pairs)
    if not links:
        return
    with translate_errors("adding the acquisition metadata"):
        conn.gateway.getUpdateService().saveArray(links, conn.gateway.SERVICE_OPTS)
