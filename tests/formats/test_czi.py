"""CZI metadata: microscope, acquisition time and pixel size, read without pixels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cci_uploader.formats import czi

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "czi"

# Read by hand from each file's metadata XML (Information/Instrument/Microscopes,
# Information/Image/AcquisitionDateAndTime or Document/CreationDate, Scaling/Items).
EXPECTED = {
    "CD_s_1_t_3_c_2_z_5.czi": (
        "Castor.Stand",
        "2016-02-12T09:41:02.491560+00:00",
        9.0576674152210312e-08,
    ),
    "RGB-8bit.czi": (None, "2019-12-06T16:56:03.651023-08:00", 1.0833333333333333e-06),
    "czitools_WellD6_S1.czi": (
        "Castor Simulation WF+LSM900",
        "2023-01-06T10:41:51.721758+00:00",
        1e-07,
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_matches_the_raw_xml(name: str) -> None:
    microscope, acquired, pixel = EXPECTED[name]
    meta = czi.read_metadata(SAMPLES / name)
    assert meta.microscope == microscope
    assert meta.acquired == dt.datetime.fromisoformat(acquired)
    assert meta.pixel_size_m == (pixel, pixel)


def test_zen_black_local_creation_date_is_this_pcs_time(pin_tz: Callable[[str], None]) -> None:
    pin_tz("America/Los_Angeles")
    meta = czi.read_metadata(SAMPLES / "tiles_z.czi")
    assert meta.microscope == "LSM 880 IndiMo, AxioObserver"  # only <System> is stored
    assert meta.acquired is not None
    assert meta.acquired.isoformat() == "2020-12-15T10:25:00-08:00"


def test_uncalibrated_file_has_no_pixel_size(tmp_path: Path) -> None:
    from pylibCZIrw import czi as zeiss

    path = tmp_path / "plain.czi"
    with zeiss.create_czi(str(path), exist_ok=True) as document:
        document.write(data=np.zeros((8, 8, 1), dtype=np.uint8))
    meta = czi.read_metadata(path)
    assert meta.pixel_size_m is None
    assert meta.microscope is None
