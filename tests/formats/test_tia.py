"""TIA EMI+SER: pairing, metadata against the raw bytes, local time, conversion."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cci_uploader.formats import FormatError, companion_owner, detect, tia
from tests.formats.bioformats import ImageInfo

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
TALOS = SAMPLES / "tia/128x128_TEM_acquire-sum1.emi"
TECNAI = SAMPLES / "tia/64x64_TEM_images_acquire.emi"

# Expected values, read by hand from the raw files. Microscope and date: the
# EMI's <ObjectInfo> XML (<Label>Microscope</Label><Value>Microscope ...</Value>
# with TIA's "Microscope " prefix dropped; <AcquireDate>, the microscope PC's
# local time). Pixel size: the first SER element's CalibrationDeltaX/Y, the
# little-endian doubles 8 and 28 bytes into the element (metres).
EXPECTED = {
    TALOS: {
        "microscope": "TalosF200X 200 kV D6308 XTwin",
        "acquire_date": "Mon Feb 22 18:57:51 2016",
        "local": dt.datetime(2016, 2, 22, 18, 57, 51),
        "pixel": 2.1479317511461325e-08,
        "shape": (128, 128),
    },
    TECNAI: {
        "microscope": "Tecnai 200 kV D2267 SuperTwin",
        "acquire_date": "Sun Feb 21 17:50:18 2016",
        "local": dt.datetime(2016, 2, 21, 17, 50, 18),
        "pixel": 6.281833616298531e-09,
        "shape": (64, 64),
    },
}


def _ser_of(emi: Path) -> Path:
    return emi.with_name(f"{emi.stem}_1.ser")


def _raw_ser_pixel_size(ser: Path) -> tuple[float, float]:
    data = ser.read_bytes()
    version = struct.unpack_from("<H", data, 4)[0]
    table = struct.unpack_from("<I" if version <= 0x210 else "<Q", data, 22)[0]
    element = struct.unpack_from("<I" if version <= 0x210 else "<Q", data, table)[0]
    return struct.unpack_from("<d", data, element + 8)[0], struct.unpack_from(
        "<d", data, element + 28
    )[0]


@pytest.mark.parametrize("emi", list(EXPECTED), ids=lambda p: p.name)
def test_expected_values_match_the_raw_files(emi: Path) -> None:
    text = emi.read_bytes().decode("latin-1")
    expected = EXPECTED[emi]
    assert f"<Value>Microscope {expected['microscope']}</Value>" in text
    assert re.search(r"<AcquireDate>(.*?)</AcquireDate>", text)[1] == expected["acquire_date"]  # type: ignore[index]
    assert _raw_ser_pixel_size(_ser_of(emi)) == (expected["pixel"], expected["pixel"])


@pytest.mark.parametrize("emi", list(EXPECTED), ids=lambda p: p.name)
def test_pair_is_recognised(emi: Path) -> None:
    ser = _ser_of(emi)
    assert detect(emi) is tia.FORMAT
    assert detect(ser) is None
    assert companion_owner(ser) is tia.FORMAT
    assert tia.companion_of(ser) == emi
    assert tia.companion_of(emi) is None


@pytest.mark.parametrize("emi", list(EXPECTED), ids=lambda p: p.name)
def test_metadata(emi: Path, pin_tz: Callable[[str], None]) -> None:
    pin_tz("Europe/Stockholm")
    expected = EXPECTED[emi]
    meta = tia.read_metadata(emi)
    assert meta.microscope == expected["microscope"]
    assert meta.acquired == expected["local"].astimezone()
    assert meta.acquired is not None and meta.acquired.utcoffset() == dt.timedelta(hours=1)
    assert meta.pixel_size_m == (expected["pixel"], expected["pixel"])
    assert meta.companions == (_ser_of(emi),)
    assert meta.images == 1
    assert meta.skipped == ()
    assert meta.extra["ExperimentalDescription.High tension_kV"] == "200.0"


def test_local_date_is_the_microscope_pcs_date(pin_tz: Callable[[str], None]) -> None:
    # 18:57 on 22 Feb in Los Angeles is already 23 Feb in UTC: the local date wins.
    pin_tz("America/Los_Angeles")
    meta = tia.read_metadata(TALOS)
    assert meta.local_date() == dt.date(2016, 2, 22)
    assert meta.acquired is not None
    assert meta.acquired.astimezone(dt.UTC) == dt.datetime(2016, 2, 23, 2, 57, 51, tzinfo=dt.UTC)


def test_several_sers_are_paired_in_numeric_order(tmp_path: Path) -> None:
    emi = Path(shutil.copy(TALOS, tmp_path / "grid [2].emi"))
    for index in (1, 2, 10):
        shutil.copy(_ser_of(TALOS), tmp_path / f"grid [2]_{index}.ser")
    shutil.copy(_ser_of(TALOS), tmp_path / "grid [2]_1_1.ser")  # belongs to "grid [2]_1.emi"
    meta = tia.read_metadata(emi)
    assert [p.name for p in meta.companions] == [f"grid [2]_{i}.ser" for i in (1, 2, 10)]
    assert meta.images == 3
    assert tia.companion_of(tmp_path / "grid [2]_10.ser") == emi
    assert tia.companion_of(tmp_path / "grid [2]_1_1.ser") is None


def test_emi_without_ser_says_so(tmp_path: Path) -> None:
    emi = Path(shutil.copy(TALOS, tmp_path / TALOS.name))
    with pytest.raises(FormatError, match=r"has no 128x128_TEM_acquire-sum1_1\.ser beside it"):
        tia.read_metadata(emi)


def test_ser_of_another_acquisition_is_refused(tmp_path: Path) -> None:
    emi = Path(shutil.copy(TALOS, tmp_path / TALOS.name))
    shutil.copy(_ser_of(TECNAI), _ser_of(emi))
    with pytest.raises(FormatError, match=r"not with 128x128_TEM_acquire-sum1\.emi"):
        tia.read_metadata(emi)


@pytest.mark.parametrize("emi", list(EXPECTED), ids=lambda p: p.name)
def test_convert_writes_one_ome_tiff(emi: Path, tmp_path: Path) -> None:
    (out,) = tia.convert(emi, tmp_path)
    assert out == tmp_path / f"{emi.stem}.ome.tif"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        (series,) = tif.series
        assert series.name == _ser_of(emi).stem
        assert series.shape == EXPECTED[emi]["shape"]


def test_converted_pixels_are_upright(tmp_path: Path) -> None:
    # TIA stores rows bottom-up; the first stored row must end up last.
    ser = _ser_of(TECNAI).read_bytes()
    table = struct.unpack_from("<I", ser, 22)[0]
    element = struct.unpack_from("<I", ser, table)[0]
    stored = np.frombuffer(ser, "<f4", 64 * 64, element + 50).reshape(64, 64)
    (out,) = tia.convert(TECNAI, tmp_path)
    np.testing.assert_array_equal(tifffile.imread(out), stored[::-1])


def _edited_copy(tmp_path: Path, old: bytes, new: bytes) -> Path:
    """Copy the Talos pair with one same-length edit in the EMI's XML."""
    assert len(old) == len(new)
    emi = tmp_path / TALOS.name
    emi.write_bytes(TALOS.read_bytes().replace(old, new, 1))
    shutil.copy(_ser_of(TALOS), _ser_of(emi))
    return emi


def test_emi_without_imaging_mode_still_converts(tmp_path: Path) -> None:
    # rosettasciio warns (UserWarning) that it must assume real-space units;
    # the plugin scopes that warning away instead of failing the file.
    emi = _edited_copy(tmp_path, b"<Label>Mode</Label>", b"<Label>Mood</Label>")
    meta = tia.read_metadata(emi)
    assert meta.pixel_size_m == (EXPECTED[TALOS]["pixel"], EXPECTED[TALOS]["pixel"])
    out = tmp_path / "out"
    out.mkdir()
    assert len(tia.convert(emi, out)) == 1


def test_emi_with_malformed_metadata_is_refused(tmp_path: Path) -> None:
    emi = _edited_copy(tmp_path, b"<Label>User</Label>", b"<Lxbel>User</Lxbel>")
    with pytest.raises(FormatError, match="has damaged metadata"):
        tia.read_metadata(emi)


@pytest.mark.parametrize("emi", list(EXPECTED), ids=lambda p: p.name)
def test_bioformats_validates_the_output(
    emi: Path,
    tmp_path: Path,
    bioformats: Callable[[Path], ImageInfo],
    pin_tz: Callable[[str], None],
) -> None:
    pin_tz("Europe/Stockholm")
    expected = EXPECTED[emi]
    (out,) = tia.convert(emi, tmp_path)
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 1
    (image,) = info.ome.images
    assert image.name == _ser_of(emi).stem
    assert (image.pixels.size_y, image.pixels.size_x) == expected["shape"]
    # Bio-Formats prints micrometres with 15 significant digits.
    assert image.pixels.physical_size_x == pytest.approx(expected["pixel"] * 1e6, rel=1e-13)
    assert image.pixels.physical_size_y == pytest.approx(expected["pixel"] * 1e6, rel=1e-13)
    # Written in UTC: 18:57:51 in Stockholm (UTC+1 in February) is 17:57:51 UTC.
    assert image.acquisition_date is not None
    utc = expected["local"].astimezone().astimezone(dt.UTC)
    assert image.acquisition_date.replace(tzinfo=None) == utc.replace(tzinfo=None)
    (instrument,) = info.ome.instruments
    assert instrument.microscope is not None
    assert instrument.microscope.model == expected["microscope"]
