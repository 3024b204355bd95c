"""Key-value pairs on images: a MapAnnotation OMERO.web can edit, plus a tag per pair."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import omero
import omero.model
from omero.rtypes import rstring

from cci_uploader.omero import hql
from cci_uploader.omero._query import find, project
from cci_uploader.omero.connection import Connection, translate_errors

# The namespace OMERO.web treats as editable "client" key-value pairs.
CLIENT_NS = "openmicroscopy.org/omero/client/mapAnnotation"


def tag_text(key: str, value: str) -> str:
    """The text of the tag that mirrors one pair."""
    return f"{key}: {value}"


def existing_values(conn: Connection, key: str) -> list[str]:
    """Values already used for ``key`` in the working group, for the value picker."""
    rows = project(
        conn,
        hql.VALUES_FOR_KEY,
        "loading existing values",
        ns=CLIENT_NS,
        key=key,
        group=conn.group_id,
    )
    return sorted({str(row[0]) for row in rows if row and row[0] is not None})


def _tag_id(conn: Connection, text: str) -> int | None:
    found = find(conn, hql.TAG_BY_TEXT, "looking up tags", text=text, group=conn.group_id)
    return int(found[0].getId().getValue()) if found else None


def annotate(conn: Connection, image_ids: Sequence[int], pairs: Sequence[tuple[str, str]]) -> None:
    """Link ``pairs`` to every image, as one MapAnnotation each and as tags.

    An existing tag with the same text is reused rather than duplicated.
    """
    if not image_ids or not pairs:
        return
    update = conn.gateway.getUpdateService()
    opts = conn.gateway.SERVICE_OPTS
    links: list[Any] = []
    for image_id in image_ids:
        annotation = omero.model.MapAnnotationI()
        annotation.setNs(rstring(CLIENT_NS))
        annotation.setMapValue([omero.model.NamedValue(k, v) for k, v in pairs])
        link = omero.model.ImageAnnotationLinkI()
        link.setParent(omero.model.ImageI(image_id, False))
        link.setChild(annotation)
        links.append(link)
    with translate_errors("adding key-value pairs"):
        tag_ids = []
        for key, value in dict.fromkeys(pairs):
            text = tag_text(key, value)
            tag_id = _tag_id(conn, text)
            if tag_id is None:
                tag = omero.model.TagAnnotationI()
                tag.setTextValue(rstring(text))
                tag_id = int(update.saveAndReturnObject(tag, opts).getId().getValue())
            tag_ids.append(tag_id)
        for image_id in image_ids:
            for tag_id in tag_ids:
                link = omero.model.ImageAnnotationLinkI()
                link.setParent(omero.model.ImageI(image_id, False))
                link.setChild(omero.model.TagAnnotationI(tag_id, False))
                links.append(link)
        update.saveArray(links, opts)
