"""Make a smaller ICU data library for the Linux bundle (32 MB of Qt's 67 MB there).

    python tools/icu_data.py PySide6/Qt/lib/libicudata.so.73 build/icu/libicudata.so.73

PySide6's Linux wheel ships ICU, and ICU's data library holds every locale's
names, currencies, units, break rules and dictionaries, transliterators and
200 legacy character set tables. Qt calls only four parts of ICU (the
``*_73`` symbols libQt6Core imports; Gui and Widgets import none): ``ucol_*``
(collation), ``ucnv_*`` (character sets other than the UTF ones it has
itself), ``ucal_*`` (time zone IDs and display names) and ``u_strTo{Upper,
Lower}`` (case maps, compiled into libicuuc). So the data keeps collation
(``coll/``, every language: sorting follows the user's locale), time zones
(``zoneinfo64`` and friends; display names, ``zone/``, in English only, the
one language of the app, whose Qt translations are dropped too), every
locale's top-level resource and the core property files, and drops the
trees nothing here opens (``brkitr``, ``curr``, ``lang``, ``region``,
``rbnf``, ``translit``, ``unit``) and the legacy character set tables
(``*.cnv``: the app reads and writes UTF-8 only; ICU's algorithmic
converters, UTF-*, US-ASCII and ISO-8859-1, are code and stay). ICU answers
a missing item with an error code, not a crash, and Qt then falls back.

The Windows wheel has no ICU (Qt uses Windows' own APIs there), so this is
for the Linux bundle only. The new library is assembled with the C compiler
(``.incbin``), under the same soname and symbol, and :func:`verify` loads it
with the wheel's libicuuc and libicui18n to prove what is kept still works
(in a process of its own: a library already loaded under that soname would be
the one tested).
"""

from __future__ import annotations

import argparse
import ctypes
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

DROPPED_TREES = frozenset({"brkitr", "curr", "lang", "region", "rbnf", "translit", "unit"})
_ALIGN = 16
_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]+)*")


def _rodata(library: bytes) -> bytes:
    """The ``.rodata`` section of an ELF64 little-endian shared library: ICU's common data."""
    if library[:6] != b"\x7fELF\x02\x01":
        raise ValueError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", library, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", library, 0x3A)

    def section(index: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, offset, size = struct.unpack_from(
            "<IIQQQQ", library, shoff + index * shentsize
        )
        return name, offset, size

    _, names_at, _ = section(shstrndx)
    for index in range(shnum):
        name, offset, size = section(index)
        if library[names_at + name : library.index(b"\0", names_at + name)] == b".rodata":
            return library[offset : offset + size]
    raise ValueError("no .rodata section")


def read_common(common: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Split ICU common data ("CmnD") into its header and its (name, item) list."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", common, 0)
    if (magic1, magic2) != (0xDA, 0x27) or common[12:16] != b"CmnD" or common[8] != 0:
        raise ValueError("not little-endian ICU common data")
    toc = common[header_size:]
    (count,) = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    ends = [data for _, data in entries[1:]] + [len(toc)]
    items = []
    for (name_at, data_at), end in zip(entries, ends, strict=True):
        name = toc[name_at : toc.index(b"\0", name_at)].decode("ascii")
        items.append((name, toc[data_at:end]))
    return common[:header_size], items


def write_common(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """ICU common data with these items, in the given (sorted) order, each 16-byte aligned."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    names_at = 4 + 8 * len(items)
    data_at = -(-(names_at + len(names)) // _ALIGN) * _ALIGN
    entries, blobs, name_at = [], [], names_at
    for name, data in items:
        entries.append(struct.pack("<II", name_at, data_at))
        name_at += len(name) + 1
        padded = data + b"\0" * (-len(data) % _ALIGN)
        blobs.append(padded)
        data_at += len(padded)
    toc = struct.pack("<I", len(items)) + b"".join(entries) + names
    toc += b"\0" * (-len(toc) % _ALIGN)
    return header + toc + b"".join(blobs)


def keep(name: str) -> bool:
    """Whether an item (``icudt73l/coll/sv.res``) stays: see the module docstring."""
    path = name.split("/", 1)[1]
    if "/" not in path:
        return not path.endswith(".cnv")
    tree, leaf = path.split("/", 1)
    if tree == "zone":
        stem = leaf.removesuffix(".res")
        is_locale = _LOCALE.fullmatch(stem) is not None and stem != "res_index"
        return not is_locale or stem == "en" or stem.startswith("en_")
    return tree not in DROPPED_TREES


def trim(source: Path, target: Path) -> tuple[int, int]:
    """Write the smaller library; return the data's size before and after, in bytes."""
    soname = source.name
    match = re.fullmatch(r"libicudata\.so\.(\d+)", soname)
    if not match:
        raise ValueError(f"{soname}: expected libicudata.so.<major>")
    common = _rodata(source.read_bytes())
    header, items = read_common(common)
    smaller = write_common(header, [(n, d) for n, d in items if keep(n)])
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "icudt.dat"
        data.write_bytes(smaller)
        assembly = Path(work) / "icudt.S"
        symbol = f"icudt{match.group(1)}_dat"
        assembly.write_text(
            f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n"
            f'{symbol}:\n\t.incbin "{data}"\n\t.size {symbol}, . - {symbol}\n'
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        subprocess.run(
            [
                "cc",
                "-shared",
                "-nostdlib",
                f"-Wl,-soname,{soname}",
                "-o",
                str(target),
                str(assembly),
            ],
            check=True,
        )
    return len(common), len(smaller)


def _utf16(text: str) -> ctypes.Array[ctypes.c_uint16]:
    units = struct.unpack(f"<{len(text.encode('utf-16-le')) // 2}H", text.encode("utf-16-le"))
    return (ctypes.c_uint16 * (len(units) + 1))(*units, 0)


def verify(data_library: Path, icu_folder: Path) -> None:
    """Load the new data with the wheel's ICU code and use what Qt uses; raise if it fails.

    Swedish collation must put "ä" after "z" (root order puts it after "a"),
    a time zone must resolve and have its English name, UTF-8 must open, and
    a dropped table must fail cleanly (an error code, not a crash).
    """
    major = data_library.name.rsplit(".", 1)[1]
    with tempfile.TemporaryDirectory() as work:
        for name in ("libicuuc", "libicui18n"):
            shutil.copy(icu_folder / f"{name}.so.{major}", work)
        shutil.copy(data_library, work)
        libs = {
            name: ctypes.CDLL(str(Path(work) / f"{name}.so.{major}"), mode=ctypes.RTLD_GLOBAL)
            for name in ("libicudata", "libicuuc", "libicui18n")
        }
        status = ctypes.c_int(0)

        def icu(library: str, function: str, restype: type | None, *args: object) -> object:
            fn = libs[library][f"{function}_{major}"]
            fn.restype = restype
            return fn(*args)

        def opened(what: str, handle: object) -> int:
            if status.value > 0 or not handle:
                raise RuntimeError(f"ICU cannot open {what} (error {status.value})")
            return int(handle)  # type: ignore[call-overload]

        p = ctypes.c_void_p
        collator = opened(
            "Swedish collation", icu("libicui18n", "ucol_open", p, b"sv", ctypes.byref(status))
        )
        order = icu(
            "libicui18n",
            "ucol_strcoll",
            ctypes.c_int,
            p(collator),
            _utf16("ä"),
            -1,
            _utf16("z"),
            -1,
        )
        icu("libicui18n", "ucol_close", None, p(collator))
        if order != 1:
            raise RuntimeError("Swedish collation data is missing: ä does not sort after z")
        zone = _utf16("Europe/Stockholm")
        calendar = opened(
            "a calendar",
            icu("libicui18n", "ucal_open", p, zone, -1, b"sv", 0, ctypes.byref(status)),
        )
        name = (ctypes.c_uint16 * 64)()
        length = icu(
            "libicui18n",
            "ucal_getTimeZoneDisplayName",
            ctypes.c_int,
            p(calendar),
            0,
            b"en",
            name,
            64,
            ctypes.byref(status),
        )
        icu("libicui18n", "ucal_close", None, p(calendar))
        shown = bytes(name)[: 2 * int(length)].decode("utf-16-le")  # type: ignore[call-overload]
        if status.value > 0 or shown != "Central European Standard Time":
            raise RuntimeError(f"English time zone names are missing: {shown!r}")
        converter = opened("UTF-8", icu("libicuuc", "ucnv_open", p, b"UTF-8", ctypes.byref(status)))
        icu("libicuuc", "ucnv_close", None, p(converter))
        status.value = 0
        if icu("libicuuc", "ucnv_open", p, b"Shift_JIS", ctypes.byref(status)) or status.value <= 0:
            raise RuntimeError("a dropped character set table (Shift_JIS) still opens")


def build(source: Path, target: Path) -> str:
    """Trim, then verify in a fresh process (one that has loaded no ICU); return a summary."""
    before, after = trim(source, target)
    subprocess.run(
        [sys.executable, __file__, "--verify", str(target), str(source.parent)], check=True
    )
    return f"ICU data: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB, verified ({target})"


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--verify"]:
        verify(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="PySide6/Qt/lib/libicudata.so.<major>")
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    print(build(args.source, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
