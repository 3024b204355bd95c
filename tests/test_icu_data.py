"""tools/icu_data.py: the Linux bundle's smaller ICU data library."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import icu_data


def _header() -> bytes:
    # MappedData + UDataInfo of a little-endian "CmnD" file, padded to 32 bytes.
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, 0, 0, 2, 0, b"CmnD", b"\1\0\0\0", b"\3\0\0\0")
    return struct.pack("<HBB", 32, 0xDA, 0x27) + info + b"\0" * 8


def test_common_data_round_trips_with_aligned_items() -> None:
    items = [("icudt73l/a.res", b"x" * 5), ("icudt73l/coll/sv.res", b"y" * 40)]
    common = icu_data.write_common(_header(), items)
    header, read = icu_data.read_common(common)
    assert header == _header()
    assert [name for name, _ in read] == [name for name, _ in items]
    for (_, original), (_, back) in zip(items, read, strict=True):
        assert back.rstrip(b"\0") == original  # padded to 16 bytes, nothing else
    count = struct.unpack_from("<I", common, 32)[0]
    offsets = [struct.unpack_from("<II", common, 36 + 8 * i)[1] for i in range(count)]
    assert all(offset % 16 == 0 for offset in offsets)


def test_not_icu_data_is_refused() -> None:
    with pytest.raises(ValueError, match="ICU common data"):
        icu_data.read_common(b"\x20\x00\x00\x00" + b"\0" * 60)


def test_what_qt_calls_stays_and_the_rest_goes() -> None:
    for kept in (
        "coll/sv.res",
        "coll/ucadata.icu",
        "zone/en.res",
        "zone/en_GB.res",
        "zone/root.res",
        "zone/pool.res",
        "zone/res_index.res",
        "zone/tzdbNames.res",
        "sv.res",
        "zoneinfo64.res",
        "cnvalias.icu",
        "uprops.icu",
        "nfc.nrm",
    ):
        assert icu_data.keep(f"icudt73l/{kept}"), kept
    for dropped in (
        "brkitr/cjdict.dict",
        "translit/root.res",
        "curr/sv.res",
        "lang/sv.res",
        "unit/sv.res",
        "region/sv.res",
        "rbnf/sv.res",
        "zone/sv.res",
        "zone/de_CH.res",
        "ibm-943_P15A-2003.cnv",
    ):
        assert not icu_data.keep(f"icudt73l/{dropped}"), dropped


# PySide6's Windows and macOS wheels have no ICU of their own; only Linux has one to trim.
@pytest.mark.skipif(sys.platform != "linux", reason="only PySide6's Linux wheel ships ICU")
def test_the_trimmed_wheel_library_still_does_what_qt_asks_of_it(tmp_path: Path) -> None:
    import PySide6

    qt_lib = Path(PySide6.__file__).parent / "Qt" / "lib"
    source = next(qt_lib.glob("libicudata.so.*[0-9]"))
    target = tmp_path / source.name
    summary = icu_data.build(source, target)  # verifies in a fresh process, raises if not
    assert "verified" in summary
    assert target.stat().st_size < source.stat().st_size / 2
