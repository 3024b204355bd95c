"""Fibics TIFF (ZEISS Atlas 5 export): sniffing, metadata against the raw tag, conversion."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cci_uploader.config import Config
from cci_uploader.formats import FormatError, _tiff_lzw, detect, fibics, sem_tif
from cci_uploader.plan import DateSource, plan_file
from cci_uploader.scan import scan_file
from tests.formats.bioformats import ImageInfo

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
FIBICS = SAMPLES / "fibics/fibics_test.tif"


def _raw_tags(path: Path) -> dict[int, tuple[int, int, int]]:
    """The first IFD's entries (tag -> type, count, value/offset), walked with struct."""
    data = path.read_bytes()
    assert data[:4] == b"II*\0"
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    tags = {}
    for n in range(count):
        tag, kind, number, value = struct.unpack_from("<HHII", data, ifd + 2 + 12 * n)
        tags[tag] = (kind, number, value)
    return tags


def _raw_xml(path: Path) -> str:
    _, count, offset = _raw_tags(path)[51023]
    return path.read_bytes()[offset : offset + count].decode("latin-1").rstrip("\0")


def _between(xml: str, tag: str) -> str:
    match = re.search(rf"<{tag}[^>]*>([^<]*)</{tag}>", xml)
    assert match, tag
    return match.group(1)


def test_sample_is_detected_as_fibics_not_smartsem() -> None:
    assert fibics.is_supported(FIBICS)
    assert not sem_tif.is_supported(FIBICS)
    found = detect(FIBICS)
    assert found is not None and found.name == "fibics"


def test_metadata_matches_the_raw_fibics_xml() -> None:
    xml = _raw_xml(FIBICS)
    tags = _raw_tags(FIBICS)
    # Expected values straight from the bytes: Ux/Vy in µm per pixel, ImageWidth tag 256.
    ux, vy = float(_between(xml, "Ux")), float(_between(xml, "Vy"))
    width, height = tags[256][2], tags[257][2]
    fov_x = float(_between(xml, "FOV_X"))
    assert (width, height) == (2053, 2051)
    assert abs(fov_x / width - ux) < 1e-9  # the cross-check holds in the sample
    meta = fibics.read_metadata(FIBICS)
    assert meta.pixel_size_m == (abs(ux) * 1e-6, abs(vy) * 1e-6)
    assert meta.pixel_size_m[0] == pytest.approx(0.5e-9, rel=1e-5)
    assert meta.software == _between(xml, "Version") == "ZEISS Atlas 5 Client v5.3.5"
    assert meta.microscope is None  # Atlas stores no microscope name
    # Application/Date is 1899-12-30, Delphi's null date: no date at all.
    assert _between(xml, "Date").startswith("1899-12-30")
    assert meta.acquired is None
    assert meta.images == 1
    assert meta.extra["Scan.FOV_X"] == f"{_between(xml, 'FOV_X')} um"


def test_scan_dates_it_by_the_files_modification_time(
    tmp_path: Path, pin_tz: Callable[[str], None]
) -> None:
    pin_tz("Pacific/Auckland")
    copy = tmp_path / "atlas export.tif"
    shutil.copyfile(FIBICS, copy)
    # 2025-06-30 23:30 UTC is 2025-07-01 11:30 in Auckland: the local date is the Dataset.
    moment = dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC).timestamp()
    os.utime(copy, (moment, moment))
    config = Config(default_microscope="Crossbeam 550")
    entry = plan_file(scan_file(copy, config), config)
    assert entry.ok, entry.scan.reason
    assert entry.dataset == "2025-07-01"
    assert entry.date_source is DateSource.FILE_MODIFIED
    assert entry.date_note == "date taken from the file's modification time"
    assert entry.project == "Crossbeam 550"
    record = entry.to_json()
    assert record["date_source"] == "file_modified"
    assert record["acquired"] == "2025-07-01T11:30:00+12:00"


def test_own_lzw_decoder_agrees_with_libtiff() -> None:
    """The spec-based decoder and Pillow's libtiff give the same pixels for the sample."""
    with tifffile.TiffFile(FIBICS) as tif:
        page = tif.pages.first
        assert page.compression == tifffile.COMPRESSION.LZW
        own = _tiff_lzw.read_strips(tif.filehandle, page)
        libtiff = _tiff_lzw.read_page(FIBICS, tif.filehandle, page)
    assert own.shape == (2051, 2053) and own.dtype == np.uint8
    assert hashlib.sha1(own.tobytes()).digest() == hashlib.sha1(libtiff.tobytes()).digest()


def test_lzw_decoder_follows_the_spec_on_a_handmade_strip() -> None:
    """TIFF 6.0 §13: 9-bit codes; 'ab' is code 258 after 'a' 'b'; Clear and EOI."""
    codes = [256, ord("a"), ord("b"), 258, 258, 257]  # -> a b ab ab
    bits = "".join(f"{c:09b}" for c in codes)
    bits += "0" * (-len(bits) % 8)
    strip = int(bits, 2).to_bytes(len(bits) // 8, "big")
    assert _tiff_lzw.decode(strip, 100) == b"ababab"
    with pytest.raises(_tiff_lzw.LzwError):
        _tiff_lzw.decode(int("100000000" + "111111111" + "0" * 6, 2).to_bytes(3, "big"), 10)


def test_conversion_passes_bioformats(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    [out] = fibics.convert(FIBICS, tmp_path)
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 1
    pixels = info.ome.images[0].pixels
    assert (pixels.size_x, pixels.size_y) == (2053, 2051)
    ux = float(_between(_raw_xml(FIBICS), "Ux"))
    assert pixels.physical_size_x == pytest.approx(ux, rel=1e-12)
    assert pixels.physical_size_y == pytest.approx(ux, rel=1e-12)
    with tifffile.TiffFile(out) as written, tifffile.TiffFile(FIBICS) as source:
        expected = _tiff_lzw.read_page(FIBICS, source.filehandle, source.pages.first)
        assert np.array_equal(written.pages.first.asarray(), expected)


def test_truncated_export_is_refused_with_a_reason(tmp_path: Path) -> None:
    cut = tmp_path / "cut.tif"
    data = FIBICS.read_bytes()
    # The IFD and the XML sit at the end, so a cut file loses them; instead keep them
    # and point the last strip (StripOffsets, tag 273) past the end of the file.
    kind, count, table = _raw_tags(FIBICS)[273]
    assert kind == 4  # LONG offsets
    cut.write_bytes(data)
    with cut.open("r+b") as fh:
        fh.seek(table + 4 * (count - 1))
        fh.write(struct.pack("<I", len(data) + 10))
    assert fibics.is_supported(cut)
    with pytest.raises(FormatError, match="incomplete"):
        fibics.read_metadata(cut)


def test_mismatched_fov_prefers_the_field_of_view(tmp_path: Path) -> None:
    """When Ux disagrees with FOV_X / width, the FOV (which is this image's) wins."""
    from lxml import etree

    xml = _raw_xml(FIBICS).replace("<Ux>0.000500001690604472</Ux>", "<Ux>0.001</Ux>")
    root = etree.fromstring(xml.strip().encode())
    x, y = fibics.pixel_size(root, 2053, 2051)
    assert x == pytest.approx(1.02650347081098 / 2053 * 1e-6)
    assert y == pytest.approx(0.000500001690604472e-6)
