"""The shared OME-TIFF writer: layout, OME-XML, pyramid, BigTIFF and atomic output."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import ome_types
import pytest
import tifffile
from ome_types.model import UnitsLength

from cci_uploader.formats import FormatError, _tiles, ometiff
from cci_uploader.formats.ometiff import OmeImage, write_ome_tiff
from tests.formats.bioformats import ImageInfo

CEST = dt.timezone(dt.timedelta(hours=2))


def _write(path: Path, images: list[OmeImage], **kwargs: Any) -> Path:
    options: dict[str, Any] = {
        "microscope_model": "Talos L120C",
        "manufacturer": "Thermo Fisher Scientific",
        "acquired": dt.datetime(2023, 6, 2, 0, 30, 5, tzinfo=CEST),
        "original_metadata": {"Voltage": "120000 V", "Aperture": "30 µm"},
    }
    options.update(kwargs)
    return write_ome_tiff(path, images, **options)


def _ramp(shape: tuple[int, ...], dtype: type[Any]) -> np.ndarray[Any, Any]:
    return (np.arange(int(np.prod(shape))) % 251).astype(dtype).reshape(shape)


def test_two_images_with_metadata(tmp_path: Path, bioformats: Callable[[Path], ImageInfo]) -> None:
    first = _ramp((700, 600), np.uint16)
    stack = _ramp((3, 100, 130), np.int16)
    out = _write(
        tmp_path / "two.ome.tif",
        [OmeImage("HAADF", first, (2.5e-9, 2.5e-9)), OmeImage("Stack", stack, (1e-6, 2e-6))],
    )
    assert out == tmp_path / "two.ome.tif"
    assert [p.name for p in tmp_path.iterdir()] == ["two.ome.tif"]

    ome = ome_types.from_tiff(out)
    assert [image.name for image in ome.images] == ["HAADF", "Stack"]
    (instrument,) = ome.instruments
    assert instrument.microscope is not None
    assert instrument.microscope.model == "Talos L120C"
    assert instrument.microscope.manufacturer == "Thermo Fisher Scientific"
    assert ome.structured_annotations is not None
    (annotation,) = ome.structured_annotations.map_annotations
    assert {m.k: m.value for m in annotation.value.ms} == {
        "Voltage": "120000 V",
        "Aperture": "30 µm",
    }
    for image in ome.images:
        assert image.instrument_ref is not None and image.instrument_ref.id == instrument.id
        assert [ref.id for ref in image.annotation_refs] == [annotation.id]
        # 00:30:05+02:00 is the previous day in UTC, and is written in UTC.
        assert image.acquisition_date == dt.datetime(2023, 6, 1, 22, 30, 5, tzinfo=dt.UTC)
        assert image.pixels.physical_size_x_unit == UnitsLength.MICROMETER
    assert ome.images[0].pixels.physical_size_x == pytest.approx(2.5e-3, rel=1e-12)
    assert ome.images[1].pixels.physical_size_y == pytest.approx(2.0, rel=1e-12)
    assert ome.images[1].pixels.size_z == 3

    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome and not tif.is_bigtiff
        assert len(tif.pages) == 4  # one page per plane, no pyramid
        for page in tif.pages:
            assert isinstance(page, tifffile.TiffPage)
            assert (page.tilewidth, page.tilelength) == (512, 512)
            assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        np.testing.assert_array_equal(tif.series[0].asarray(), first)
        np.testing.assert_array_equal(tif.series[1].asarray(), stack)

    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 2
    assert info.ome.images[1].pixels.size_z == 3
    assert info.ome.images[0].pixels.physical_size_x == pytest.approx(2.5e-3, rel=1e-9)
    assert info.ome.images[1].pixels.physical_size_y == pytest.approx(2.0, rel=1e-9)


def test_large_image_gets_a_subifd_pyramid(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    data = _ramp((2, 2100, 3000), np.uint8)
    out = _write(tmp_path / "big.ome.tif", [OmeImage("Atlas", data, (5e-7, 5e-7))])
    with tifffile.TiffFile(out) as tif:
        (series,) = tif.series
        shapes = [level.shape for level in series.levels]
        assert shapes == [(2, 2100, 3000), (2, 1050, 1500), (2, 525, 750), (2, 263, 375)]
        for level in series.levels[1:]:
            assert level.keyframe.is_subifd and level.keyframe.tilewidth == 512
            assert level.keyframe.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        factor = 1
        for level in series.levels:
            np.testing.assert_array_equal(level.asarray(), data[:, ::factor, ::factor])
            factor *= 2
    with tifffile.TiffFile(out) as tif:  # the pyramid hangs off each plane as SubIFDs
        for page in tif.pages:
            assert isinstance(page, tifffile.TiffPage) and len(page.subifds or ()) == 3
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 1
    assert info.resolutions == [4]


def test_no_pyramid_up_to_2048(tmp_path: Path) -> None:
    out = _write(tmp_path / "edge.ome.tif", [OmeImage("Edge", _ramp((2048, 40), np.uint8), None)])
    with tifffile.TiffFile(out) as tif:
        assert len(tif.series[0].levels) == 1


def test_memmap_source_and_odd_types(tmp_path: Path) -> None:
    source = tmp_path / "raw.bin"
    mapped = np.memmap(source, dtype=">f2", mode="w+", shape=(600, 520))
    mapped[:] = _ramp((600, 520), np.float16)
    mapped.flush()
    del mapped
    readonly = np.memmap(source, dtype=">f2", mode="r", shape=(600, 520))
    out = _write(tmp_path / "half.ome.tif", [OmeImage("Half", readonly, None)])
    with tifffile.TiffFile(out) as tif:
        pixels = tif.series[0].asarray()
    assert pixels.dtype == np.float32  # OME has no half floats
    np.testing.assert_array_equal(pixels, np.asarray(readonly, dtype=np.float32))
    ome = ome_types.from_tiff(out)
    assert ome.images[0].pixels.physical_size_x is None


def test_bigtiff_above_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 2 GiB of pixels would take minutes; the decision is made on raw bytes.
    assert _tiles.raw_bytes([(1, 33000, 33000)], [np.dtype(np.uint16)]) > ometiff._BIGTIFF_ABOVE
    assert _tiles.raw_bytes([(1, 30000, 30000)], [np.dtype(np.uint8)]) < ometiff._BIGTIFF_ABOVE
    monkeypatch.setattr(ometiff, "_BIGTIFF_ABOVE", 1000)
    out = _write(tmp_path / "b.ome.tif", [OmeImage("B", _ramp((40, 40), np.uint8), None)])
    with tifffile.TiffFile(out) as tif:
        assert tif.is_bigtiff and tif.is_ome


def test_naive_time_is_local_and_none_is_omitted(tmp_path: Path, pin_tz: Any) -> None:
    pin_tz("Asia/Tokyo")
    data = _ramp((10, 10), np.uint8)
    out = _write(
        tmp_path / "n.ome.tif", [OmeImage("N", data, None)], acquired=dt.datetime(2024, 1, 1, 8)
    )
    assert ome_types.from_tiff(out).images[0].acquisition_date == dt.datetime(
        2023, 12, 31, 23, tzinfo=dt.UTC
    )
    out = _write(
        tmp_path / "o.ome.tif",
        [OmeImage("O", data, None)],
        acquired=None,
        microscope_model=None,
        manufacturer=None,
        original_metadata={},
    )
    ome = ome_types.from_tiff(out)
    assert ome.images[0].acquisition_date is None
    assert ome.instruments == [] and ome.images[0].instrument_ref is None
    assert ome.images[0].annotation_refs == []


@pytest.mark.parametrize(
    ("images", "reason"),
    [
        ([], "holds no images"),
        ([OmeImage("C", np.zeros((4, 4), np.complex64), None)], "cannot be stored"),
        ([OmeImage("4D", np.zeros((2, 2, 4, 4), np.uint8), None)], "4 dimensions"),
    ],
)
def test_unwritable_input(tmp_path: Path, images: list[OmeImage], reason: str) -> None:
    with pytest.raises(FormatError, match=reason):
        _write(tmp_path / "x.ome.tif", images)
    assert list(tmp_path.iterdir()) == []


def test_failure_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = _tiles.read_band

    def failing(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk gone")
        return real(*args)

    monkeypatch.setattr(_tiles, "read_band", failing)
    with pytest.raises(OSError, match="disk gone"):
        _write(tmp_path / "f.ome.tif", [OmeImage("F", _ramp((2000, 600), np.uint8), None)])
    assert list(tmp_path.iterdir()) == []
