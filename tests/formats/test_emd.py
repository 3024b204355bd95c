"""Velox EMD: metadata against the raw file, images, skipped parts, reading without sparse."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile

from cci_uploader.formats import FormatError, detect, emd
from tests.formats.bioformats import ImageInfo

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
SI = SAMPLES / "emd/Test SI 16x16 215 kx.emd"
DPC = SAMPLES / "emd/fei_example_dpc_titles.emd"
STACK = SAMPLES / "emd/fei_example_tem_stack.emd"

# Expected values, read by hand from each file's raw Velox metadata: the JSON
# in Data/Image/<uuid>/Metadata (h5py, column 0, zero bytes stripped), keys
# Instrument.InstrumentModel + Instrument.InstrumentId,
# Acquisition.AcquisitionStartDatetime.DateTime (unix seconds, UTC) and
# BinaryResult.PixelSize.width/height (PixelUnitX "m"). The image titles are
# Velox's display titles; rosettasciio's mapped microscope would say "Titan".
EXPECTED = {
    SI: {
        "microscope": "Themis 3678",
        "unix": 1709189884,  # 2024-02-29 06:58:04 UTC; the file's log says 07:58:04+0100
        "pixel": 3.5992492559614689e-09,
        "titles": ["C", "Ca", "O", "Cu", "HAADF"],
        "planes": [1, 1, 1, 1, 2],  # the HAADF recorded alongside the 2 EDS frames
        "skipped": (
            "skipped spectrum 'SuperXG21'",
            "skipped spectrum 'SuperXG24'",
            "skipped spectrum 'SuperXG22'",
            "skipped spectrum 'SuperXG23'",
            "skipped spectrum image 'EDS'",
        ),
    },
    DPC: {
        "microscope": "Titan 3371",
        "unix": 1603977376,  # 2020-10-29 13:16:16 UTC
        "pixel": 9.9619915558306547e-11,
        "titles": ["B-D", "iDPC", "DF4-C", "DF4-B", "DF4-A", "A-C", "DF4-D", "Filtered iDPC"],
        "planes": [1] * 8,
        "skipped": ("skipped complex image 'DPC'",),
    },
    STACK: {
        "microscope": "Titan 3492",
        "unix": 1575540224,  # 2019-12-05 10:03:44 UTC
        "pixel": 8.1728831922978511e-12,
        "titles": ["Ceta"],
        "planes": [2],
        "skipped": (),
    },
}


def _raw_image_metadata(path: Path) -> dict[str, object]:
    with h5py.File(path, "r") as f:
        group = f["Data/Image"]
        first = group[next(iter(group))]
        raw = bytes(first["Metadata"][:, 0]).rstrip(b"\0")
    value: dict[str, object] = json.loads(raw)
    return value


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_expected_values_match_the_raw_file(path: Path) -> None:
    raw = _raw_image_metadata(path)
    instrument, acquisition, binary = raw["Instrument"], raw["Acquisition"], raw["BinaryResult"]
    assert isinstance(instrument, dict) and isinstance(acquisition, dict)
    assert isinstance(binary, dict)
    expected = EXPECTED[path]
    assert f"{instrument['InstrumentModel']} {instrument['InstrumentId']}" == expected["microscope"]
    assert int(acquisition["AcquisitionStartDatetime"]["DateTime"]) == expected["unix"]
    assert float(binary["PixelSize"]["width"]) == expected["pixel"]
    assert binary["PixelUnitX"] == "m"


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_sample_is_recognised(path: Path) -> None:
    assert detect(path) is emd.FORMAT
    assert emd.is_supported(path)


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_metadata(path: Path) -> None:
    expected = EXPECTED[path]
    meta = emd.read_metadata(path)
    assert meta.microscope == expected["microscope"]
    assert meta.acquired == dt.datetime.fromtimestamp(int(expected["unix"]), dt.UTC)
    assert meta.pixel_size_m == (expected["pixel"], expected["pixel"])
    assert meta.images == len(expected["titles"])
    assert meta.skipped == expected["skipped"]
    assert meta.companions == ()
    assert meta.extra["Instrument.InstrumentId"] == expected["microscope"].split()[-1]


def test_local_date_follows_this_computers_time_zone(pin_tz: Callable[[str], None]) -> None:
    # 2024-02-29 06:58:04 UTC is still the 29th in Stockholm, the 28th in Los Angeles.
    pin_tz("Europe/Stockholm")
    assert emd.read_metadata(SI).local_date() == dt.date(2024, 2, 29)
    pin_tz("America/Los_Angeles")
    meta = emd.read_metadata(SI)
    assert meta.local_date() == dt.date(2024, 2, 28)
    assert meta.acquired is not None and meta.acquired.astimezone(dt.UTC).date() == dt.date(
        2024, 2, 29
    )


def test_reading_needs_neither_sparse_nor_numba(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A None entry makes both `import` and importlib.util.find_spec report "not installed".
    monkeypatch.setitem(sys.modules, "sparse", None)
    monkeypatch.setitem(sys.modules, "numba", None)
    from rsciio.emd import file_reader

    # Why emd.py does not call rosettasciio's public reader: it wants sparse...
    with pytest.raises(ModuleNotFoundError, match="sparse"):
        file_reader(str(SI), select_type="images")
    # ...and rejects the select_type value its own documentation gives.
    with pytest.raises(ValueError, match="select_type"):
        file_reader(str(SI), select_type="image")
    assert emd.read_metadata(SI).images == 5
    assert len(emd.convert(SI, tmp_path)) == 1


def test_source_is_opened_read_only(tmp_path: Path) -> None:
    before = SI.stat()
    emd.convert(SI, tmp_path)
    after = SI.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_convert_writes_one_ome_tiff_with_every_image(path: Path, tmp_path: Path) -> None:
    expected = EXPECTED[path]
    (out,) = emd.convert(path, tmp_path)
    assert out == tmp_path / f"{path.stem}.ome.tif"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        assert [s.name for s in tif.series] == expected["titles"]
        planes = [s.shape[0] if len(s.shape) == 3 else 1 for s in tif.series]
        assert planes == expected["planes"]
        assert tif.ome_metadata is not None
        assert "Themis" in tif.ome_metadata or "Titan" in tif.ome_metadata


def test_converted_pixels_equal_the_source(tmp_path: Path) -> None:
    (out,) = emd.convert(STACK, tmp_path)
    with h5py.File(STACK, "r") as f:
        group = f["Data/Image"]
        raw = np.asarray(group[next(iter(group))]["Data"])  # (Y, X, frames)
    with tifffile.TiffFile(out) as tif:
        written = tif.series[0].asarray()
    np.testing.assert_array_equal(written, np.transpose(raw, (2, 0, 1)))


def test_non_velox_hdf5_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "berkeley.emd"
    with h5py.File(path, "w") as f:
        f.attrs["version_major"] = 0
        f.create_dataset("data", data=np.zeros((2, 2)))
    with pytest.raises(FormatError, match="not a Velox EMD file"):
        emd.read_metadata(path)


def test_file_with_only_spectra_cannot_be_converted(tmp_path: Path) -> None:
    path = tmp_path / "spectra.emd"
    with h5py.File(path, "w") as f:
        f.create_dataset("Version", data=[json.dumps({"format": "Velox", "version": "11"})])
        f.create_group("Data/Spectrum")
    meta = emd.read_metadata(path)
    assert (meta.images, meta.skipped) == (0, ())
    with pytest.raises(FormatError, match="no images"):
        emd.convert(path, tmp_path)


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_bioformats_validates_the_output(
    path: Path, tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    expected = EXPECTED[path]
    (out,) = emd.convert(path, tmp_path)
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == len(expected["titles"])
    assert [image.name for image in info.ome.images] == expected["titles"]
    when = dt.datetime.fromtimestamp(int(expected["unix"]), dt.UTC)
    for image, planes in zip(info.ome.images, expected["planes"], strict=True):
        pixels = image.pixels
        assert pixels.size_z == planes
        # Bio-Formats prints micrometres with 15 significant digits.
        assert pixels.physical_size_x == pytest.approx(expected["pixel"] * 1e6, rel=1e-13)
        assert pixels.physical_size_y == pytest.approx(expected["pixel"] * 1e6, rel=1e-13)
        assert pixels.physical_size_x_unit.value == "µm"
        assert image.acquisition_date is not None
        assert image.acquisition_date.replace(tzinfo=None) == when.replace(tzinfo=None)
    (instrument,) = info.ome.instruments
    assert instrument.microscope is not None
    assert instrument.microscope.model == expected["microscope"]
