"""Fibics TIFF (ZEISS Atlas 5 exports): converted to OME-TIFF.

An Atlas export is an ordinary greyscale TIFF (``Software`` = "Fibics ATLAS
Export") whose private tag 51023 (``FibicsXML``) holds ``<Fibics version=…>``:
the application, the image size and the scan geometry. ``Scan/Ux, Uy`` and
``Scan/Vx, Vy`` are the scan's pixel vectors in µm per pixel (``Vy`` is
negative: rows run downwards), so the pixel size is their length, which also
holds for a rotated scan. ``FOV_X / Image/Width`` must agree; when it does not,
the field of view, which describes the exported image itself, is used.

The XML names no microscope. ``Application/Date`` is Atlas's export date and
can be the null date 1899-12-30 (the zero of Delphi's ``TDateTime``), which is
no date at all.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import tifffile

from cci_uploader.formats import _tiff, _tiff_lzw
from cci_uploader.formats._tiff_tags import first_page_tags
from cci_uploader.formats.base import FileMetadata, FormatDescriptor, FormatError, local_time

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

NAME = "fibics"
EXTENSIONS = (".tif", ".tiff")

FIBICS_TAG = 51023
_MAX_XML = 4 * 2**20  # Atlas writes about 2 kB; anything huge is not an Atlas export
# Delphi's TDateTime zero, and anything before it, is "no date".
_NULL_DATE = dt.date(1899, 12, 30)
# How far FOV / width may stray from the scan vector before the FOV is preferred.
_AGREE = 1e-3
_AGAIN = "export it again from Atlas"


def _xml_text(tif: tifffile.TiffFile) -> str | None:
    tag = tif.pages.first.tags.get(FIBICS_TAG)
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def is_supported(path: Path) -> bool:
    """Say whether ``path`` is a TIFF whose first page carries Fibics XML in tag 51023."""
    if not path.name.lower().endswith(EXTENSIONS):
        return False
    tags = first_page_tags(path)  # a plain "no" without parsing the page
    if tags is not None and FIBICS_TAG not in tags:
        return False
    try:
        with tifffile.TiffFile(path) as tif:
            text = _xml_text(tif)
    except Exception:  # a sniff must never raise; any unreadable file is simply "not ours"
        return False
    return text is not None and "<Fibics" in text[:512]


def _parse(text: str, path: Path) -> Any:
    from lxml import etree  # type: ignore[import-untyped]

    if len(text) > _MAX_XML:
        raise FormatError(f"{path.name} has an implausibly large Fibics metadata block.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.strip().encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        reason = (str(exc).splitlines() or ["not XML"])[0][:120]
        raise FormatError(
            f"{path.name} has unreadable Fibics metadata ({reason}); export it again from Atlas."
        ) from exc
    if root.tag != "Fibics":
        raise FormatError(f"{path.name} is a TIFF without Fibics metadata.")
    return root


def _number(root: Any, xpath: str) -> float | None:
    text = root.findtext(xpath)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _fov_um(root: Any, axis: str) -> float | None:
    node = root.find(f"Scan/FOV_{axis}")
    if node is None or (node.get("units") or "um") not in ("um", "µm", "μm"):
        return None
    return _number(root, f"Scan/FOV_{axis}")


def pixel_size(root: Any, width: int, height: int) -> tuple[float, float] | None:
    """Return the (x, y) pixel size in metres from the scan vectors, cross-checked."""
    sizes: list[float | None] = []
    for (a, b), fov, count in (
        (("Ux", "Uy"), _fov_um(root, "X"), width),
        (("Vx", "Vy"), _fov_um(root, "Y"), height),
    ):
        first, second = _number(root, f"Scan/{a}"), _number(root, f"Scan/{b}")
        vector = math.hypot(first, second) if first is not None and second is not None else None
        by_fov = fov / count if fov and fov > 0 and count > 0 else None
        size = vector if vector else by_fov
        if vector and by_fov and abs(vector - by_fov) > _AGREE * by_fov:
            size = by_fov
        sizes.append(size)
    x, y = sizes
    if not x or not y:
        return None
    return x * 1e-6, y * 1e-6


def _acquired(root: Any) -> dt.datetime | None:
    value = local_time(root.findtext("Application/Date"))
    return None if value is None or value.date() <= _NULL_DATE else value


def _original(root: Any) -> dict[str, str]:
    """Every leaf of the Fibics XML as ``Section.Key`` to text (with its unit)."""
    result: dict[str, str] = {}
    for node in root.iter():
        if len(node) or node is root or not (node.text or "").strip():
            continue
        parts = []
        parent = node
        while parent is not None and parent is not root:
            parts.append(parent.tag)
            parent = parent.getparent()
        units = node.get("units")
        value = node.text.strip() + (f" {units}" if units else "")
        result[".".join(reversed(parts))] = value
    return result


def _image_pages(tif: tifffile.TiffFile, path: Path) -> list[tifffile.TiffPage]:
    """The full-resolution pages (not an overview Atlas may add), each complete."""
    pages = list(_tiff.pages(tif, path, _AGAIN, reduced=False))
    if not pages:
        raise FormatError(f"{path.name} holds no image; {_AGAIN}.")
    return pages


def _read(path: Path) -> tuple[Any, list[tifffile.TiffPage], tifffile.TiffFile]:
    tif = tifffile.TiffFile(path)
    try:
        text = _xml_text(tif)
        if text is None:
            raise FormatError(f"{path.name} is a TIFF without Fibics metadata (tag 51023).")
        return _parse(text, path), _image_pages(tif, path), tif
    except BaseException:
        tif.close()
        raise


def read_metadata(path: Path) -> FileMetadata:
    """Read pixel size, software and date from the Fibics XML, without decoding pixels.

    Raises
    ------
    FormatError
        If the file is not a readable Fibics TIFF.
    """
    with _tiff.reading(path, _AGAIN):
        root, pages, tif = _read(path)
        with tif:
            height, width = pages[0].shape[:2]
    version = (root.findtext("Application/Version") or "").strip() or None
    extra = {"Fibics.version": root.get("version") or "", **_original(root)}
    return FileMetadata(
        microscope=None,
        acquired=_acquired(root),
        pixel_size_m=pixel_size(root, width, height),
        images=len(pages),
        extra={k: v for k, v in extra.items() if v},
        software=version,
    )


def _pixels(path: Path, tif: tifffile.TiffFile, page: tifffile.TiffPage) -> NDArray[Any]:
    if page.samplesperpixel != 1 or page.ndim != 2:
        raise FormatError(
            f"{path.name} is not a greyscale image; export it in greyscale from Atlas."
        )
    if page.is_memmappable:
        mapped: NDArray[Any] = tifffile.memmap(path, page=page.index, mode="r")
        return mapped
    if _tiff_lzw.needs_own_decoder(page):  # Atlas writes LZW; see _tiff_lzw
        return _tiff_lzw.read_page(path, tif.filehandle, page)
    data: NDArray[Any] = page.asarray()
    return data


def convert(path: Path, out_dir: Path) -> list[Path]:
    """Write the export's image(s) into one OME-TIFF, ``out_dir / "<stem>.ome.tif"``."""
    # Only converting needs ome-types (about 1 s to import), not a scan.
    from cci_uploader.formats.ometiff import OmeImage, write_converted

    meta = read_metadata(path)
    with _tiff.reading(path, _AGAIN):
        root, pages, tif = _read(path)
        with tif:
            images = []
            for number, page in enumerate(pages, start=1):
                data = _pixels(path, tif, page)
                name = _tiff.page_name(path, number, len(pages))
                size = pixel_size(root, data.shape[1], data.shape[0])
                images.append(OmeImage(name, data, size))
            return write_converted(path, out_dir, images, meta, manufacturer="Carl Zeiss")


FORMAT = FormatDescriptor(
    name=NAME,
    label="Fibics TIFF",
    extensions=EXTENSIONS,
    is_supported=is_supported,
    read_metadata=read_metadata,
    convert=convert,
)
