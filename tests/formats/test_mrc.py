"""EPU/ATLAS MRC+XML: metadata against the raw XML, conversion, damage, streaming memory."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mrcfile
import numpy as np
import ome_types
import pytest
import tifffile

from cci_uploader.formats import FormatError, detect, mrc
from tests.formats.bioformats import ImageInfo

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
ATLAS = SAMPLES / "atlas/Atlas_1.mrc"
ATLAS_XML = SAMPLES / "atlas/Atlas_1.xml"
SRC = Path(__file__).resolve().parents[2] / "src"

# Expected values, read by hand from the raw text of Atlas_1.xml (grep):
#   <acquisitionDateTime>2023-06-02T15:03:39.1962747+02:00</acquisitionDateTime>
#   <InstrumentModel>TALOS-12TAN18C</InstrumentModel>  <InstrumentID>5838</InstrumentID>
#   <AccelerationVoltage>120000</AccelerationVoltage>
#   <pixelSize><x><numericValue>5.151999913332518E-07</numericValue> (unit symbol "m"),
#   and the same value for <y>. The MRC is synthetic; its header is not authoritative.
MICROSCOPE = "TALOS-12TAN18C"
ACQUIRED = dt.datetime(2023, 6, 2, 15, 3, 39, 196274, tzinfo=dt.timezone(dt.timedelta(hours=2)))
PIXEL_M = 5.151999913332518e-07


@contextmanager
def _quiet_mrcfile() -> Iterator[None]:
    with warnings.catch_warnings():
        # mrcfile sets array dtypes in place, which NumPy 2.5 deprecates.
        warnings.filterwarnings("ignore", "Setting the dtype", DeprecationWarning)
        yield


def _stage(folder: Path, xml: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    main = Path(shutil.copyfile(ATLAS, folder / ATLAS.name))
    if xml:
        shutil.copyfile(ATLAS_XML, folder / ATLAS_XML.name)
    return main


def _mrc_pixels(path: Path) -> np.ndarray[Any, Any]:
    with _quiet_mrcfile(), mrcfile.mmap(path, mode="r") as data:
        return np.array(data.data)


def _generate(path: Path, shape: tuple[int, int], mode: int = 1) -> Path:
    """Write a smooth-plus-noise MRC (like a real atlas, compressible) with the sample's XML."""
    rng = np.random.default_rng(7)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_mrcfile(), mrcfile.new_mmap(path, shape=shape, mrc_mode=mode) as new:
        columns = np.arange(shape[1], dtype=np.int32)
        for top in range(0, shape[0], 1024):
            rows = np.arange(top, min(top + 1024, shape[0]), dtype=np.int32)[:, None]
            noise = rng.integers(0, 64, (rows.shape[0], shape[1]), dtype=np.int32)
            new.data[top : top + rows.shape[0]] = (rows + columns) % 2000 + noise
    shutil.copyfile(ATLAS_XML, path.with_suffix(".xml"))
    return path


@pytest.mark.parametrize(
    ("zone", "local_date", "utc_date"),
    [
        ("Europe/Stockholm", dt.date(2023, 6, 2), dt.date(2023, 6, 2)),
        ("UTC", dt.date(2023, 6, 2), dt.date(2023, 6, 2)),
        # NZST is UTC+12: 13:03 UTC is already 01:03 on the 3rd in Auckland.
        ("Pacific/Auckland", dt.date(2023, 6, 3), dt.date(2023, 6, 2)),
    ],
)
def test_metadata_matches_raw_xml(
    zone: str, local_date: dt.date, utc_date: dt.date, pin_tz: Callable[[str], None]
) -> None:
    pin_tz(zone)
    found = detect(ATLAS)
    assert found is not None and found.name == mrc.NAME == "mrc_xml"
    meta = mrc.read_metadata(ATLAS)
    assert meta.microscope == MICROSCOPE
    assert meta.acquired == ACQUIRED
    assert meta.acquired is not None and meta.acquired.utcoffset() == dt.timedelta(hours=2)
    assert meta.local_date() == local_date
    assert meta.acquired.astimezone(dt.UTC).date() == utc_date
    assert meta.pixel_size_m == (PIXEL_M, PIXEL_M)
    assert meta.companions == (ATLAS_XML,)
    assert meta.images == 1
    assert meta.extra["Instrument ID"] == "5838"
    assert meta.extra["Acceleration voltage (V)"] == "120000"
    assert meta.extra["microscopeData/optics/TemMagnification/NominalMagnification"] == "155"
    assert meta.extra["CustomData/NumberOfTilesAcquired"] == "36"


def test_companion_lookup(tmp_path: Path) -> None:
    assert mrc.companion_of(ATLAS_XML) == ATLAS
    assert mrc.companion_of(ATLAS) is None
    lone = tmp_path / "Lone.xml"
    lone.write_text("<a/>")
    assert mrc.companion_of(lone) is None


def test_sniffing_never_raises(tmp_path: Path) -> None:
    assert mrc.is_supported(ATLAS)
    assert not mrc.is_supported(ATLAS_XML)
    assert not mrc.is_supported(tmp_path / "missing.mrc")
    (tmp_path / "folder.mrc").mkdir()
    assert not mrc.is_supported(tmp_path / "folder.mrc")
    noise = tmp_path / "noise.mrc"
    noise.write_bytes(random.Random(1).randbytes(4096))
    assert not mrc.is_supported(noise)


def test_convert_sample(tmp_path: Path, bioformats: Callable[[Path], ImageInfo]) -> None:
    (out,) = mrc.convert(ATLAS, tmp_path)
    assert out == tmp_path / "Atlas_1.ome.tif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Atlas_1.ome.tif"]
    with tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        assert (page.tilewidth, page.tilelength) == (512, 512)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert len(tif.series[0].levels) == 1  # 1024 px: no pyramid needed
        np.testing.assert_array_equal(tif.series[0].asarray(), _mrc_pixels(ATLAS))
    ome = ome_types.from_tiff(out)
    (image,) = ome.images
    assert image.name == "Atlas_1"
    assert image.acquisition_date == dt.datetime(2023, 6, 2, 13, 3, 39, 196274, tzinfo=dt.UTC)
    assert image.pixels.physical_size_x == pytest.approx(PIXEL_M * 1e6, rel=1e-12)
    assert image.pixels.physical_size_y == pytest.approx(PIXEL_M * 1e6, rel=1e-12)
    assert image.pixels.physical_size_x_unit.value == "µm"
    (instrument,) = ome.instruments
    assert instrument.microscope is not None
    assert instrument.microscope.model == MICROSCOPE
    assert image.instrument_ref is not None and image.instrument_ref.id == instrument.id
    assert ome.structured_annotations is not None
    (pairs,) = ome.structured_annotations.map_annotations
    values = {m.k: m.value for m in pairs.value.ms}
    assert values["Instrument ID"] == "5838"
    assert values["Acceleration voltage (V)"] == "120000"
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 1
    assert info.ome.images[0].pixels.physical_size_x == pytest.approx(PIXEL_M * 1e6, rel=1e-9)
    assert info.ome.images[0].pixels.physical_size_y == pytest.approx(PIXEL_M * 1e6, rel=1e-9)


def test_convert_large_atlas_makes_a_pyramid(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    source = _generate(tmp_path / "in" / "Atlas_2.mrc", (2100, 2600))
    (out,) = mrc.convert(source, tmp_path)
    with tifffile.TiffFile(out) as tif:
        shapes = [level.shape for level in tif.series[0].levels]
        # Halved until the smallest level fits in one 512-px tile.
        assert shapes == [(2100, 2600), (1050, 1300), (525, 650), (263, 325)]
        np.testing.assert_array_equal(
            tif.series[0].levels[2].asarray(), _mrc_pixels(source)[::4, ::4]
        )
    info = bioformats(out)
    assert info.valid, info.output
    assert (info.series, info.resolutions) == (1, [4])
    assert info.ome.images[0].pixels.physical_size_x == pytest.approx(PIXEL_M * 1e6, rel=1e-9)


def test_stack_becomes_planes(tmp_path: Path) -> None:
    source = tmp_path / "in" / "Stack.mrc"
    source.parent.mkdir()
    with _quiet_mrcfile(), mrcfile.new(source) as new:
        new.set_data(np.arange(3 * 40 * 50, dtype=np.float32).reshape(3, 40, 50))
    shutil.copyfile(ATLAS_XML, source.with_suffix(".xml"))
    (out,) = mrc.convert(source, tmp_path)
    ome = ome_types.from_tiff(out)
    assert (ome.images[0].pixels.size_z, ome.images[0].pixels.type.value) == (3, "float")


def test_missing_companion(tmp_path: Path) -> None:
    main = _stage(tmp_path, xml=False)
    with pytest.raises(FormatError) as caught:
        mrc.read_metadata(main)
    assert str(caught.value) == "Atlas_1.mrc has no companion Atlas_1.xml; copy both files."
    with pytest.raises(FormatError, match="no companion"):
        mrc.convert(main, tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<MicroscopeImage><name>x</name></MicroscopeImage>",  # no Fei namespace
        b"<?xml version='1.0'?><Other xmlns='http://schemas.datacontract.org/2004/07/"
        b"Fei.SharedObjects'/>",
        b"\x89PNG\r\n\x1a\n" + bytes(200),
        b"<MicroscopeImage xmlns='http://schemas.datacontract.org/2004/07/Fei.SharedObj",
    ],
    ids=["empty", "other-schema", "other-root", "binary", "cut-off"],
)
def test_wrong_companion(tmp_path: Path, content: bytes) -> None:
    main = _stage(tmp_path)
    main.with_suffix(".xml").write_bytes(content)
    with pytest.raises(FormatError) as caught:
        mrc.read_metadata(main)
    assert "Atlas_1.xml" in str(caught.value) and "\n" not in str(caught.value)


def test_sparse_xml_gives_unknowns(tmp_path: Path) -> None:
    main = _stage(tmp_path)
    main.with_suffix(".xml").write_text(
        '<MicroscopeImage xmlns="http://schemas.datacontract.org/2004/07/Fei.SharedObjects">'
        "<microscopeData><acquisition><acquisitionDateTime>not a date</acquisitionDateTime>"
        "</acquisition></microscopeData></MicroscopeImage>"
    )
    meta = mrc.read_metadata(main)
    assert (meta.microscope, meta.acquired, meta.pixel_size_m) == (None, None, None)
    (out,) = mrc.convert(main, tmp_path / "out")
    assert ome_types.from_tiff(out).images[0].acquisition_date is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("length", [0, 1, 100, 1023, 1024, 1025, 524_288, 2_098_175])
def test_truncated_mrc(tmp_path: Path, length: int) -> None:
    main = _stage(tmp_path)
    main.write_bytes(ATLAS.read_bytes()[:length])
    with pytest.raises(FormatError) as caught:
        mrc.read_metadata(main)
    assert "\n" not in str(caught.value)
    with pytest.raises(FormatError):
        mrc.convert(main, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Atlas_1.mrc", "Atlas_1.xml"]


def test_appended_bytes_are_rejected(tmp_path: Path) -> None:
    main = _stage(tmp_path)
    with main.open("ab") as fh:
        fh.write(bytes(5000))
    with pytest.raises(FormatError, match="damaged or incomplete"):
        mrc.read_metadata(main)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [7, 1024, 2_098_176])
def test_random_bytes(tmp_path: Path, size: int) -> None:
    main = _stage(tmp_path)
    main.write_bytes(random.Random(size).randbytes(size))
    with pytest.raises(FormatError, match="not an MRC file"):
        mrc.read_metadata(main)


def _mutate(data: bytes, region: int, rng: random.Random) -> bytes:
    """Damage ``data`` at a seeded offset inside its first ``region`` bytes."""
    buf = bytearray(data)
    at = rng.randrange(min(region, len(buf)))
    kind = rng.choice(["flip", "flip", "flip", "truncate", "insert", "delete", "zero"])
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(min(region, len(buf)))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[at:]
    elif kind == "insert":
        buf[at:at] = rng.randbytes(rng.randint(1, 16))
    elif kind == "delete":
        del buf[at : at + rng.randint(1, 16)]
    else:
        buf[at : at + rng.randint(1, 32)] = bytes(32)[: len(buf[at : at + 32])]
    return bytes(buf)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("seed", range(200))
def test_mutated_header_or_xml(tmp_path: Path, seed: int) -> None:
    """Damage where the structure lives (the MRC header, the XML): read fine or FormatError."""
    main = _stage(tmp_path / "in")
    rng = random.Random(f"mrc-{seed}")
    if rng.random() < 0.5:
        main.write_bytes(_mutate(main.read_bytes(), 1024, rng))
    else:
        xml = main.with_suffix(".xml")
        xml.write_bytes(_mutate(xml.read_bytes(), xml.stat().st_size, rng))
    try:
        mrc.read_metadata(main)
        (out,) = mrc.convert(main, tmp_path)
        assert out.is_file()
    except FormatError as exc:
        assert str(exc) and "\n" not in str(exc)


# The child reports its own peak. Not ru_maxrss: Linux carries the high-water
# mark of the forked copy of this (large) test process across exec into it.
# VmHWM belongs to the child's own address space, created fresh by exec.
CHILD = """
import re, sys
from pathlib import Path
from cci_uploader.formats import mrc
mrc.convert(Path(sys.argv[1]), Path(sys.argv[2]))
with open("/proc/self/status") as status:
    print(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
"""


@pytest.mark.timeout(240)
def test_512_mib_converts_in_bounded_memory(tmp_path: Path) -> None:
    source = _generate(tmp_path / "in" / "Huge.mrc", (16384, 16384))
    assert source.stat().st_size >= 512 * 2**20
    paths = [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", CHILD, str(source), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=220,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    peak_mib = int(result.stdout.split()[-1]) / 1024
    assert peak_mib <= 200, f"conversion peaked at {peak_mib:.0f} MiB"
    with tifffile.TiffFile(tmp_path / "Huge.ome.tif") as tif:
        levels = tif.series[0].levels
        assert [level.shape[0] for level in levels] == [16384, 8192, 4096, 2048, 1024, 512]
        assert not tif.is_bigtiff
        smallest = levels[-1].asarray()
    with _quiet_mrcfile(), mrcfile.mmap(source, mode="r") as original:
        np.testing.assert_array_equal(smallest, original.data[::32, ::32])
