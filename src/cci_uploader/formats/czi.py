"""Zeiss CZI (LSM 700/710/880/980, Celldiscoverer 7, Axio, Elyra): imported as-is.

Metadata comes from the file's own XML segment via pylibCZIrw, Zeiss's
reader, without decoding any pixels. The XML is parsed whole, so a damaged
segment is refused, with lxml: ZEN writes up to half a megabyte of hardware
settings, which ElementTree takes 6 ms to build and lxml under 3 ms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from cci_uploader.formats._czi_acquisition import acquisition_pairs
from cci_uploader.formats.base import (
    ACQUISITION,
    CREATION,
    FileMetadata,
    FormatDescriptor,
    FormatError,
    local_time,
    starts_with,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

NAME = "czi"
EXTENSIONS = (".czi",)

_MAGIC = b"ZISRAWFILE"


class _Node(Protocol):
    """The ElementTree API both xml.etree and lxml elements offer."""

    def find(self, path: str) -> _Node | None: ...

    def findall(self, path: str) -> Iterable[_Node]: ...

    def findtext(self, path: str) -> str | None: ...

    def get(self, key: str) -> str | None: ...


def is_supported(path: Path) -> bool:
    """Say whether ``path`` is a CZI file: ``.czi`` suffix and the ZISRAW header."""
    return path.suffix.lower() in EXTENSIONS and starts_with(path, _MAGIC)


def _microscope(meta: _Node) -> str | None:
    node = meta.find("Information/Instrument/Microscopes/Microscope")
    if node is None:
        return None
    for candidate in (node.findtext("UserDefinedName"), node.get("Name"), node.findtext("System")):
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def _software(meta: _Node) -> str | None:
    app = meta.find("Information/Application")
    if app is None:
        return None
    parts = [(app.findtext(key) or "").strip() for key in ("Name", "Version")]
    return " ".join(p for p in parts if p) or None


def _pixel_size(meta: _Node) -> tuple[float, float] | None:
    sizes: dict[str, float] = {}
    for distance in meta.findall("Scaling/Items/Distance"):
        axis, value = distance.get("Id"), distance.findtext("Value")
        if axis in ("X", "Y") and value:
            try:
                sizes[axis] = float(value)
            except ValueError:
                return None
    if sizes.get("X", 0.0) > 0 and sizes.get("Y", 0.0) > 0:  # 0 means "not calibrated"
        return sizes["X"], sizes["Y"]
    return None


def _read(path: Path) -> tuple[str, int]:
    """Return the CZI's metadata XML and its number of scenes, or raise :class:`FormatError`.

    The scenes are counted from the subblock directory (libCZI's statistics,
    which it builds from the directory segment when the file is opened): no
    pixels are decoded. Bio-Formats makes one series, so OMERO one Image, per
    scene; a file without scene indices is one image.
    """
    from pylibCZIrw import czi

    if not is_supported(path):
        raise FormatError(f"{path.name} is not a Zeiss CZI file (its header is missing).")
    from cci_uploader.formats._czi_layout import check_layout

    check_layout(path)  # before libCZI trusts the directory and recurses into the XML
    try:
        with czi.open_czi(str(path)) as document:
            xml_text: str = document.raw_metadata
            scenes = len(document.scenes_bounding_rectangle)
    except (RuntimeError, OSError, ValueError) as exc:  # pylibCZIrw: RuntimeError if damaged
        raise FormatError(
            f"{path.name} is damaged or incomplete and cannot be read ({exc})."
        ) from exc
    return xml_text, max(scenes, 1)


def read_raw_xml(path: Path) -> str:
    """Return the CZI's metadata XML, or raise :class:`FormatError`."""
    return _read(path)[0]


def parse_xml(xml_text: str, path: Path) -> _Node:
    """Parse the metadata XML, or raise :class:`FormatError` if it is malformed.

    The declared encoding is overridden (the text is already decoded). ZEN
    writes no DTD: entities are not expanded and nothing is fetched.
    """
    from lxml import etree  # type: ignore[import-untyped]

    parser = etree.XMLParser(
        encoding="utf-8", huge_tree=True, resolve_entities=False, no_network=True
    )
    try:
        root: _Node = etree.fromstring(xml_text.encode("utf-8", "replace"), parser)
    except etree.XMLSyntaxError as exc:
        reason = (str(exc).splitlines() or ["not XML"])[0][:120]
        raise FormatError(f"{path.name} has unreadable metadata ({reason}).") from exc
    return root


def metadata_from_xml(root: _Node, path: Path, scenes: int = 1) -> FileMetadata:
    """Build the metadata from a parsed CZI XML document (``scenes``: from the directory)."""
    meta = root.find("Metadata")
    if meta is None:
        raise FormatError(f"{path.name} has no metadata section.")
    # ZEN writes a time without an offset in the microscope PC's local time.
    acquired = local_time(meta.findtext("Information/Image/AcquisitionDateAndTime"))
    source = ACQUISITION
    if acquired is None:
        # ZEN black (several LSM 880 files) writes only the document creation time.
        acquired = local_time(meta.findtext("Information/Document/CreationDate"))
        source = CREATION
    return FileMetadata(
        microscope=_microscope(meta),
        acquired=acquired,
        pixel_size_m=_pixel_size(meta),
        images=scenes,
        software=_software(meta),
        date_source=source,
        acquisition=acquisition_pairs(meta),
    )


def read_metadata(path: Path) -> FileMetadata:
    """Read microscope, acquisition time, pixel size and scene count from the CZI."""
    xml_text, scenes = _read(path)
    return metadata_from_xml(parse_xml(xml_text, path), path, scenes)


# CZI is imported as it is: OMERO reads it with Bio-Formats, so nothing is converted.
FORMAT = FormatDescriptor(
    name=NAME,
    label="Zeiss CZI",
    extensions=EXTENSIONS,
    is_supported=is_supported,
    read_metadata=read_metadata,
)
