"""Limits every reader checks before it allocates or recurses.

A small file must never take minutes or gigabytes. Each format states what
it expects (pages, planes, metadata size and nesting) and these checks turn
anything beyond that into a :class:`FormatError` with a one-line reason,
before the library that would have looped, recursed or allocated is called.
The limits are documented for users in ``docs/limits.md``; keep both in step.
The Velox EMD walk over HDF5 is in :mod:`._velox_limits`.
"""

from __future__ import annotations

import struct
import xml.parsers.expat
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cci_uploader.formats.base import FormatError

if TYPE_CHECKING:
    from pathlib import Path

MAX_METADATA_BYTES = 64 * 2**20
"""Largest metadata block (XML, JSON, a TIFF tag's text) read into memory."""

MAX_NESTING = 100
"""Deepest nesting of XML elements or JSON objects; real files stay below 20."""

MAX_PAGES = 1000
"""Most TIFF pages (IFDs) a SmartSEM TIFF may hold; SmartSEM writes one."""

MAX_PLANES = 10_000
"""Most planes (Z) of one image stack, and of one converted file in all."""

MAX_SEM_TEXT_BYTES = 2**20
"""Largest SmartSEM parameter text (tag 34118); SmartSEM writes about 35 KB."""

MAX_SEM_TEXT_LINES = 20_000
"""Most lines in SmartSEM's parameter text; SmartSEM writes about 1,700."""

MAX_OBJECT_INFOS = 1000
"""Most ``<ObjectInfo>`` blocks an EMI may hold; TIA writes one per signal."""

MAX_UNPACKED_BYTES = 256 * 2**20
"""Largest compressed image unpacked in memory (SmartSEM itself never compresses)."""

MAX_EXPANSION = 1024
"""Most bytes an image may declare per byte the file stores for it (deflate's limit)."""

MAX_IMAGE_BYTES = 256 * 2**30
"""Largest image (uncompressed pixel bytes) any reader accepts."""


_AGAIN = "it is probably damaged, so copy it again from the microscope PC."


def too_large(path: Path, what: str, value: int, limit: int) -> FormatError:
    """Return the error for a count beyond a limit: ``what`` is the plural counted."""
    return FormatError(
        f"{path.name} has {value:,} {what}, more than the {limit:,} this tool accepts; {_AGAIN}"
    )


def _too_deep(path: Path, what: str) -> FormatError:
    return FormatError(
        f"{path.name} has {what} nested more than {MAX_NESTING} levels deep, which no "
        f"microscope writes; {_AGAIN}"
    )


def hollow(path: Path, declared: int, stored: int) -> FormatError:
    """The error for pixels or metadata declared far beyond what the file stores."""
    return FormatError(
        f"{path.name} declares {declared:,} bytes but stores only {stored:,}; "
        "it is damaged or incomplete, copy it again from the microscope PC."
    )


# -- XML ---------------------------------------------------------------------


class _Deep(Exception):
    pass


def check_xml(data: bytes | str, path: Path, what: str = "metadata") -> None:
    """Refuse XML larger than :data:`MAX_METADATA_BYTES` or nested deeper than :data:`MAX_NESTING`.

    The check streams the text through expat (C speed, no tree built), so
    it costs a fraction of the parse that follows. Malformed XML is left to
    the reader's own parser, which says what is wrong with it.
    """
    size = len(data)
    if size > MAX_METADATA_BYTES:
        raise too_large(path, f"bytes of {what} XML", size, MAX_METADATA_BYTES)
    depth = 0

    def start(_name: str, _attrs: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_NESTING:
            raise _Deep

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Deep:
        raise _too_deep(path, f"{what} XML") from None
    except xml.parsers.expat.ExpatError:
        return  # the reader's parser reports malformed XML in its own words


def check_xml_file(xml_path: Path) -> None:
    """:func:`check_xml` for a file on disk, reading at most the limit."""
    with xml_path.open("rb") as fh:
        data = fh.read(MAX_METADATA_BYTES + 1)
    check_xml(data, xml_path)


# -- JSON --------------------------------------------------------------------

# Every byte but the quote and the four brackets, for bytes.translate to delete.
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))


def strip_nul(raw: bytes) -> bytes:
    r"""``raw.rstrip(b"\0")``, quick when the padding is one run of zeros after the text.

    Velox pads each image's 9 kB of JSON to 60 kB; ``rstrip`` walks the padding
    a byte at a time from the end; ``find`` and a comparison with zeros do not.
    """
    end = raw.find(b"\0")
    if end < 0:
        return raw
    if raw[end:] == bytes(len(raw) - end):
        return raw[:end]
    return raw.rstrip(b"\0")


def _brackets(raw: bytes) -> bytes:
    """The brackets of JSON text ``raw`` that lie outside its strings, in order."""
    if b"\\" in raw:
        # Drop escaped backslashes first, then escaped quotes: pairs are taken from
        # the left, as a JSON reader takes them. (Any other escape holds no quote.)
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Outside strings are the even pieces between quotes; an unclosed string runs
    # to the end (the reader refuses it there, before anything after it).
    return b"".join(raw.translate(None, _NOT_STRUCTURE).split(b'"')[::2])


def check_json(data: bytes | str, path: Path, what: str = "metadata") -> None:
    """Refuse JSON beyond :data:`MAX_METADATA_BYTES` or nested deeper than :data:`MAX_NESTING`."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    if len(raw) > MAX_METADATA_BYTES:
        raise too_large(path, f"bytes of {what} JSON", len(raw), MAX_METADATA_BYTES)
    depth = 0
    for byte in _brackets(raw):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_NESTING:
            raise _too_deep(path, f"{what} JSON")


def flatten(prefix: str, value: Any, out: dict[str, str], path: Path) -> None:
    """Flatten nested mappings into ``out`` (``"A.B.C": "text"``), without recursion.

    Refuses nesting deeper than :data:`MAX_NESTING` instead of recursing.
    """
    stack: list[tuple[str, Any, int]] = [(prefix, value, 0)]
    while stack:
        key, item, depth = stack.pop()
        if isinstance(item, Mapping):
            if depth >= MAX_NESTING:
                raise _too_deep(path, "metadata")
            children = [
                (f"{key}.{name}" if key else str(name), child, depth + 1)
                for name, child in item.items()
            ]
            stack.extend(reversed(children))
        elif item not in (None, ""):
            out[key] = str(item)


# -- TIA EMI -----------------------------------------------------------------


def check_emi(emi: Path) -> None:
    """Check an EMI's ``<ObjectInfo>`` blocks before rosettasciio extracts them.

    rosettasciio's ``get_xml_info_from_emi`` searches the rest of the file for
    each block's end: an EMI of 250,000 unclosed blocks took two minutes.
    Here the blocks are counted, must each be closed, and are checked for
    nesting (rosettasciio's XML-to-dict conversion recurses).
    """
    size = emi.stat().st_size
    if size > MAX_METADATA_BYTES:
        raise too_large(emi, "bytes in its .emi metadata file", size, MAX_METADATA_BYTES)
    data = emi.read_bytes()
    opened, closed = data.count(b"<ObjectInfo>"), data.count(b"</ObjectInfo>")
    if opened > MAX_OBJECT_INFOS:
        raise too_large(emi, "metadata blocks", opened, MAX_OBJECT_INFOS)
    if opened != closed:
        raise FormatError(
            f"{emi.name} has damaged metadata (a block is not closed); "
            "copy it again from the microscope PC."
        )
    start = data.find(b"<ObjectInfo>")
    while start != -1:
        end = data.find(b"</ObjectInfo>", start)
        if end == -1:
            break
        check_xml(data[start : end + len(b"</ObjectInfo>")], emi)
        start = data.find(b"<ObjectInfo>", end)


# -- TIFF --------------------------------------------------------------------


def tiff_pages(path: Path) -> int:
    """Count a TIFF's pages by following its IFD chain, refusing loops and long chains.

    Raises
    ------
    FormatError
        If an IFD points back to an earlier one, or the chain holds more
        than :data:`MAX_PAGES` pages. A chain pointing past the end of the
        file ends there, as tifffile ends it.
    """
    with path.open("rb") as fh:
        head = fh.read(16)
        size = path.stat().st_size
        if len(head) < 16 or head[:2] not in (b"II", b"MM"):
            return 0  # not a TIFF: tifffile says so in its own words
        order = "<" if head[:2] == b"II" else ">"
        version = struct.unpack(order + "H", head[2:4])[0]
        if version == 43:
            offset = struct.unpack(order + "Q", head[8:16])[0]
            count_fmt, entry_size, next_fmt = order + "Q", 20, order + "Q"
        else:
            offset = struct.unpack(order + "I", head[4:8])[0]
            count_fmt, entry_size, next_fmt = order + "H", 12, order + "I"
        seen: set[int] = set()
        for at in _chain(fh, offset, size, count_fmt, entry_size, next_fmt, path):
            if at in seen:
                raise FormatError(
                    f"{path.name} is damaged: its list of pages loops back on itself."
                )
            seen.add(at)
            if len(seen) > MAX_PAGES:
                raise FormatError(
                    f"{path.name} has more than {MAX_PAGES:,} pages, the most this tool "
                    f"accepts; {_AGAIN}"
                )
    return len(seen)


def _chain(
    fh: Any, offset: int, size: int, count_fmt: str, entry_size: int, next_fmt: str, path: Path
) -> Iterator[int]:
    """Yield the IFD offsets; an offset past the end ends the chain, as tifffile ends it."""
    count_size, next_size = struct.calcsize(count_fmt), struct.calcsize(next_fmt)
    while offset and offset + count_size <= size:
        yield offset
        fh.seek(offset)
        count = struct.unpack(count_fmt, fh.read(count_size))[0]
        at = offset + count_size + count * entry_size
        if at + next_size > size:
            return
        fh.seek(at)
        offset = struct.unpack(next_fmt, fh.read(next_size))[0]


def check_sem_text(tif: Any, tag: Any, path: Path) -> None:
    """Refuse a SmartSEM ``CZ_SEM`` text too long for tifffile's parser to read in time.

    tifffile's ``read_cz_sem`` appends every line it cannot place to a tuple,
    which is quadratic in such lines: 400 KB of junk took 20 s. Call this
    before ``tag.value``, which runs that parser.
    """
    if tag.count > MAX_SEM_TEXT_BYTES:
        raise too_large(path, "bytes of SmartSEM metadata", tag.count, MAX_SEM_TEXT_BYTES)
    handle = tif.filehandle
    handle.seek(tag.valueoffset)
    lines = len(handle.read(tag.count).splitlines())
    if lines > MAX_SEM_TEXT_LINES:
        raise too_large(path, "lines of SmartSEM metadata", lines, MAX_SEM_TEXT_LINES)


def check_unpacked(path: Path, compressed: bool, unpacked: int, stored: int) -> None:
    """Refuse a compressed image that would unpack to more than :data:`MAX_UNPACKED_BYTES`.

    A compressed TIFF page is decoded whole in memory (an uncompressed one
    is memory-mapped and streamed); deflate lets 1.6 MB unpack to 1.6 GB.
    """
    if compressed and unpacked > MAX_UNPACKED_BYTES:
        raise FormatError(
            f"{path.name} is compressed and would unpack to {unpacked / 2**20:,.0f} MB, more "
            f"than the {MAX_UNPACKED_BYTES // 2**20} MB this tool unpacks; save it "
            "uncompressed (SmartSEM's default) to upload it."
        )
    if unpacked > max(stored, 1) * MAX_EXPANSION:
        raise hollow(path, unpacked, stored)


# -- images ------------------------------------------------------------------


def check_mrc_header(path: Path) -> None:
    """Check an MRC header's extended-header size and stack depth before mrcfile reads it.

    mrcfile reads the whole extended header into memory first, so a header
    claiming 2 GiB of it costs 2 GiB before the file's length is compared.
    """
    with path.open("rb") as fh:
        header = fh.read(1024)
    if len(header) < 1024:
        return  # mrcfile reports a short file in its own words
    byteorder = ">" if header[212] == 0x11 else "<"  # the machine stamp
    nz = struct.unpack_from(byteorder + "i", header, 8)[0]
    extended = struct.unpack_from(byteorder + "i", header, 92)[0]
    size = path.stat().st_size
    if extended < 0 or 1024 + extended > size:
        raise FormatError(
            f"{path.name} is damaged: its header says {extended:,} bytes of extended header, "
            f"but the file holds {size:,} bytes. Copy it again from the microscope PC."
        )
    if nz > MAX_PLANES:
        raise too_large(path, "planes in one image", nz, MAX_PLANES)


def check_image(
    path: Path, shape: tuple[int, ...], itemsize: int, stored: int | None = None
) -> None:
    """Refuse an image whose declared size the file cannot back.

    Parameters
    ----------
    shape : tuple of int
        Declared shape, planes first for stacks (``(Z, Y, X)`` or ``(Y, X)``).
    itemsize : int
        Bytes per pixel.
    stored : int, optional
        Bytes the file really stores for these pixels (compressed or not);
        the declared size may exceed it by :data:`MAX_EXPANSION` at most.
    """
    total = itemsize
    for side in shape:
        total *= max(int(side), 0)
    if total > MAX_IMAGE_BYTES:
        raise too_large(path, "bytes in one image", total, MAX_IMAGE_BYTES)
    planes = 1
    for side in shape[:-2]:
        planes *= max(int(side), 1)
    if planes > MAX_PLANES:
        raise too_large(path, "planes in one image", planes, MAX_PLANES)
    if stored is not None and total > max(stored, 1) * MAX_EXPANSION:
        raise hollow(path, total, stored)
