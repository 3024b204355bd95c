"""Annotation namespaces the app writes, each defined once."""

from __future__ import annotations

CLIENT_NS = "openmicroscopy.org/omero/client/mapAnnotation"
"""Key-value pairs OMERO.web shows and lets users edit
(``omero.constants.metadata.NSCLIENTMAPANNOTATION``); the OME-TIFF writer
stores a source's original metadata under it too."""
