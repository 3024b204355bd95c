"""Reads what the in-process training sandbox holds for an image (sandbox mode only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cci_uploader.omero import CLIENT_NS
from cci_uploader.ui.dialogs.image import ImageRecord

if TYPE_CHECKING:
    from cci_uploader.sandbox import SandboxServer


def _value(obj: Any, getter: str) -> str:
    wrapped = getattr(obj, getter)()
    return "" if wrapped is None else str(wrapped.getValue())


def describe_image(server: SandboxServer, image_id: int) -> ImageRecord:
    """The stand-in's own record of ``image_id``: where it is, its files, pairs and tags."""
    project, dataset = server.location(image_id)
    state = server.state
    with state.lock:
        image = state.get("Image", image_id)
        fileset = image.getFileset()
        files: list[str] = []
        if fileset is not None:
            stored = state.get("Fileset", fileset.getId().getValue())
            for entry in stored.copyUsedFiles():
                files.append(_value(entry, "getClientPath"))
        pairs: list[tuple[str, str]] = []
        tags: list[str] = []
        for link in state.all("ImageAnnotationLink"):
            if link.getParent().getId().getValue() != image_id:
                continue
            child = link.getChild()
            kind = type(child).__name__
            if kind.startswith("MapAnnotation"):
                stored = state.get("MapAnnotation", child.getId().getValue())
                if _value(stored, "getNs") != CLIENT_NS:
                    continue  # the read-only acquisition record, not the user's pairs
                pairs.extend((nv.name, nv.value) for nv in stored.getMapValue())
            elif kind.startswith("TagAnnotation"):
                stored = state.get("TagAnnotation", child.getId().getValue())
                tags.append(_value(stored, "getTextValue"))
        name = _value(image, "getName")
    return ImageRecord(
        image_id, name, project, dataset, tuple(files), tuple(pairs), tuple(sorted(tags))
    )
