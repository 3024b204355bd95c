"""Zeiss SmartSEM TIFF: metadata against the raw CZ_SEM tag, conversion, variants, damage."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import ome_types
import pytest
import tifffile

from cci_uploader.formats import FormatError, detect, sem_tif
from tests.formats.bioformats import ImageInfo

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
GEMINI = SAMPLES / "sem_tif/sample6_001.tif"
MERLIN = SAMPLES / "sem_tif/test_tiff_Zeiss_SEM_1k.tif"
CZ_SEM = 34118

# Expected values, read by hand from the raw CZ_SEM tag text (strings | grep, xxd),
# and the ImageWidth tag (both samples are 1024 x 768):
#   sample6_001.tif:  "Sem = GeminiSEM 450", "Date: 3 Mar 2025", "Time: 14:52:42",
#                     "Image Pixel Size = 4.990 nm"
#   test_tiff_Zeiss_SEM_1k.tif: "Sem = Merlin", "Date :23 Dec 2015", "Time :9:40:32",
#                     "Image Pixel Size = 2.615 \xb5m" (0xB5 is the Latin-1 micro sign)
EXPECTED = {
    GEMINI: ("GeminiSEM 450", dt.datetime(2025, 3, 3, 14, 52, 42), 4.990e-9),
    MERLIN: ("Merlin", dt.datetime(2015, 12, 23, 9, 40, 32), 2.615e-6),
}


def _raw_tag(path: Path) -> bytes:
    """Return the CZ_SEM tag's bytes exactly as stored in ``path``."""
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages.first.tags[CZ_SEM]
        tif.filehandle.seek(tag.valueoffset)
        return bytes(tif.filehandle.read(tag.count))


def _write_sem(path: Path, pages: list[np.ndarray[Any, Any]], raw: bytes) -> Path:
    """Write a SmartSEM-like TIFF: ``raw`` as the CZ_SEM tag of the first page."""
    with tifffile.TiffWriter(path) as writer:
        for index, page in enumerate(pages):
            tags = [(CZ_SEM, 2, 0, raw, True)] if index == 0 else []
            writer.write(page, photometric="minisblack", metadata=None, extratags=tags)
    return path


def _pixels(shape: tuple[int, int]) -> np.ndarray[Any, Any]:
    with tifffile.TiffFile(GEMINI) as tif:
        source = tif.pages.first.asarray()
    return np.resize(source, shape).astype(np.uint8)


def _replace(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) == 1, old
    return raw.replace(old, new)


@pytest.mark.parametrize("sample", [GEMINI, MERLIN], ids=lambda p: p.stem)
@pytest.mark.parametrize("zone", ["Europe/Stockholm", "Pacific/Auckland", "America/Chicago"])
def test_metadata_matches_raw_tag(sample: Path, zone: str, pin_tz: Callable[[str], None]) -> None:
    pin_tz(zone)
    microscope, local, pixel = EXPECTED[sample]
    found = detect(sample)
    assert found is not None and found.name == sem_tif.NAME == "sem_tif"
    meta = sem_tif.read_metadata(sample)
    assert meta.microscope == microscope
    assert meta.acquired is not None
    # The tag holds the microscope PC's local time, taken to be this computer's zone.
    assert meta.acquired.replace(tzinfo=None) == local
    assert meta.acquired.utcoffset() == local.astimezone().utcoffset()
    assert meta.local_date() == local.date()
    assert meta.pixel_size_m == (pixel, pixel)
    assert (meta.images, meta.companions) == (1, ())
    assert meta.extra["Sem"] == microscope


def test_utc_date_can_differ_from_local(pin_tz: Callable[[str], None]) -> None:
    pin_tz("Pacific/Auckland")  # NZDT, UTC+13 in December
    meta = sem_tif.read_metadata(MERLIN)
    assert meta.acquired is not None
    assert meta.acquired.isoformat() == "2015-12-23T09:40:32+13:00"
    assert meta.local_date() == dt.date(2015, 12, 23)
    assert meta.acquired.astimezone(dt.UTC).date() == dt.date(2015, 12, 22)


@pytest.mark.parametrize(
    ("width", "expected"),
    [(1024, 4.990e-9), (2048, 2.495e-9), (800, 4.990e-9 * 1024 / 800)],
)
def test_old_files_pixel_size_refers_to_1024_display(
    tmp_path: Path, width: int, expected: float, bioformats: Callable[[Path], ImageInfo]
) -> None:
    # Older SmartSEM writes only "Pixel Size", measured on a 1024-px-wide display.
    raw = _replace(_raw_tag(GEMINI), b"AP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 4.990 nm\r\n", b"")
    path = _write_sem(tmp_path / "old.tif", [_pixels((width * 3 // 4, width))], raw)
    meta = sem_tif.read_metadata(path)
    assert meta.pixel_size_m is not None
    assert meta.pixel_size_m == pytest.approx((expected, expected), rel=1e-12)
    (out,) = sem_tif.convert(path, tmp_path / "out")
    info = bioformats(out)
    assert info.valid, info.output
    assert info.ome.images[0].pixels.physical_size_x == pytest.approx(expected * 1e6, rel=1e-9)


@pytest.mark.parametrize(
    ("date", "clock", "expected"),
    [
        (b"Date: 3 Mar 2025", b"Time: 14:52:42", dt.datetime(2025, 3, 3, 14, 52, 42)),
        (b"Date :3 Mar 2025", b"Time :4:05:09", dt.datetime(2025, 3, 3, 4, 5, 9)),
        (b"Date :03 Mar 2025", b"Time :14:52", dt.datetime(2025, 3, 3, 14, 52)),
        (b"Date = 3 March 2025", b"Time = 9:52:42", dt.datetime(2025, 3, 3, 9, 52, 42)),
        (b"Date: 31 Feb 2025", b"Time: 14:52:42", None),
        (b"Date: unknown", b"Time: 14:52:42", None),
    ],
)
def test_date_spellings(
    tmp_path: Path,
    date: bytes,
    clock: bytes,
    expected: dt.datetime | None,
    pin_tz: Callable[[str], None],
) -> None:
    pin_tz("Europe/Stockholm")
    raw = _replace(_raw_tag(GEMINI), b"Date: 3 Mar 2025", date)
    raw = _replace(raw, b"Time: 14:52:42", clock)
    meta = sem_tif.read_metadata(_write_sem(tmp_path / "d.tif", [_pixels((30, 40))], raw))
    if expected is None:
        assert meta.acquired is None
    else:
        assert meta.acquired == expected.astimezone()


def test_microscope_falls_back_to_serial_number(tmp_path: Path) -> None:
    raw = _replace(_raw_tag(GEMINI), b"Sem = GeminiSEM 450\r\n", b"Sem = \r\n")
    meta = sem_tif.read_metadata(_write_sem(tmp_path / "s.tif", [_pixels((30, 40))], raw))
    assert meta.microscope == "GeminiSEM 450-8216010121"  # "Serial No. = ..." in the raw tag


@pytest.mark.parametrize("sample", [GEMINI, MERLIN], ids=lambda p: p.stem)
def test_convert_sample(
    sample: Path, tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    microscope, local, pixel = EXPECTED[sample]
    (out,) = sem_tif.convert(sample, tmp_path)
    assert out == tmp_path / f"{sample.stem}.ome.tif"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    with tifffile.TiffFile(sample) as original, tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        assert (page.tilewidth, page.tilelength) == (512, 512)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.photometric == tifffile.PHOTOMETRIC.MINISBLACK
        assert CZ_SEM not in page.tags
        np.testing.assert_array_equal(tif.series[0].asarray(), original.pages.first.asarray())
    ome = ome_types.from_tiff(out)
    (image,) = ome.images
    assert image.name == sample.stem
    assert image.acquisition_date == local.astimezone(dt.UTC)
    assert image.pixels.physical_size_x == pytest.approx(pixel * 1e6, rel=1e-12)
    assert image.pixels.physical_size_y == pytest.approx(pixel * 1e6, rel=1e-12)
    assert ome.instruments[0].microscope is not None
    assert ome.instruments[0].microscope.model == microscope
    assert ome.instruments[0].microscope.manufacturer == "Carl Zeiss"
    assert ome.structured_annotations is not None
    (pairs,) = ome.structured_annotations.map_annotations
    assert {m.k: m.value for m in pairs.value.ms}["Sem"] == microscope
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 1
    assert info.ome.images[0].pixels.physical_size_x == pytest.approx(pixel * 1e6, rel=1e-9)


def test_multipage_gives_one_image_per_page(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    pages = [_pixels((300, 400)), _pixels((300, 400))[::-1], _pixels((200, 250))]
    path = _write_sem(tmp_path / "multi.tif", pages, _raw_tag(GEMINI))
    assert sem_tif.read_metadata(path).images == 3
    (out,) = sem_tif.convert(path, tmp_path / "out")
    ome = ome_types.from_tiff(out)
    assert [i.name for i in ome.images] == [f"multi (page {n})" for n in (1, 2, 3)]
    with tifffile.TiffFile(out) as tif:
        for series, page in zip(tif.series, pages, strict=True):
            np.testing.assert_array_equal(series.asarray(), page)
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 3


def test_large_image_gets_a_pyramid(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    path = _write_sem(tmp_path / "large.tif", [_pixels((2304, 3072))], _raw_tag(GEMINI))
    (out,) = sem_tif.convert(path, tmp_path / "out")
    with tifffile.TiffFile(out) as tif:
        assert [lv.shape for lv in tif.series[0].levels] == [
            (2304, 3072),
            (1152, 1536),
            (576, 768),
            (288, 384),
        ]
    info = bioformats(out)
    assert info.valid, info.output
    assert info.resolutions == [4]


def test_sniffing_never_raises(tmp_path: Path) -> None:
    assert sem_tif.is_supported(GEMINI) and sem_tif.is_supported(MERLIN)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.uint8))
    (converted,) = sem_tif.convert(GEMINI, tmp_path)
    noise = tmp_path / "noise.tiff"
    noise.write_bytes(random.Random(3).randbytes(2048))
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    (tmp_path / "folder.tif").mkdir()
    for path in (plain, converted, noise, empty, tmp_path / "missing.tif", tmp_path / "folder.tif"):
        assert not sem_tif.is_supported(path), path.name
    assert not sem_tif.is_supported(SAMPLES / "atlas/Atlas_1.mrc")


def test_plain_tiff_is_rejected(tmp_path: Path) -> None:
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.uint8))
    with pytest.raises(FormatError, match="without Zeiss SmartSEM metadata"):
        sem_tif.read_metadata(plain)


def _with_colour_palette(sample: Path, out: Path) -> np.ndarray[Any, Any]:
    """Copy ``sample`` (a grey-palette SmartSEM TIFF) with its ColorMap tag's values replaced.

    The TIFF 6.0 ColorMap (tag 320) is 3 x 2**BitsPerSample SHORTs, all reds,
    then greens, then blues; only those bytes change. Returns the palette written.
    """
    data = bytearray(sample.read_bytes())
    with tifffile.TiffFile(sample) as tif:
        tag = tif.pages.first.tags[320]
        assert tag.count == 3 * 256 and tif.byteorder == "<"
        offset = tag.valueoffset
    index = np.arange(256, dtype=np.uint16)
    palette = np.stack([index, 255 - index, (index * 7) % 256]).astype(np.uint16) * 257
    data[offset : offset + palette.nbytes] = palette.astype("<u2").tobytes()
    out.write_bytes(bytes(data))
    return palette


def test_colour_palette_keeps_its_metadata_and_converts_to_rgb(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    coloured = tmp_path / "sample6_001 colour palette.tif"
    palette = _with_colour_palette(GEMINI, coloured)
    meta = sem_tif.read_metadata(coloured)
    original = sem_tif.read_metadata(GEMINI)
    assert (meta.microscope, meta.acquired, meta.pixel_size_m) == (
        original.microscope,
        original.acquired,
        original.pixel_size_m,
    )
    (out,) = sem_tif.convert(coloured, tmp_path / "out")
    info = bioformats(out)
    assert info.valid, info.output
    assert info.series == 1
    pixels = info.ome.images[0].pixels
    assert (pixels.size_c, pixels.size_z, pixels.size_x, pixels.size_y) == (3, 1, 1024, 768)
    assert [c.name for c in pixels.channels] == ["Red", "Green", "Blue"]
    assert pixels.physical_size_x == pytest.approx(4.990e-3, rel=1e-12)
    with tifffile.TiffFile(GEMINI) as source, tifffile.TiffFile(out) as written:
        indices = source.pages.first.asarray()
        planes = [page.asarray() for page in written.series[0].pages]
    assert all(p.dtype == np.uint8 for p in planes)
    for channel, plane in enumerate(planes):
        assert np.array_equal(plane, (palette[channel] // 257)[indices])


def test_grey_palette_converts_to_the_stored_values(tmp_path: Path) -> None:
    (out,) = sem_tif.convert(MERLIN, tmp_path)
    with tifffile.TiffFile(MERLIN) as source, tifffile.TiffFile(out) as written:
        assert source.pages.first.photometric == tifffile.PHOTOMETRIC.PALETTE
        assert np.array_equal(written.pages.first.asarray(), source.pages.first.asarray())
        assert len(written.series[0].pages) == 1


def test_rgb_keeps_metadata_and_converts(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    raw = _raw_tag(GEMINI)
    rgb = tmp_path / "rgb.tif"
    pixels = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    tifffile.imwrite(rgb, pixels, photometric="rgb", extratags=[(CZ_SEM, 2, 0, raw, True)])
    meta = sem_tif.read_metadata(rgb)
    assert meta.microscope == "GeminiSEM 450"
    assert meta.pixel_size_m == (4.990e-9, 4.990e-9)
    (out,) = sem_tif.convert(rgb, tmp_path / "out")
    info = bioformats(out)
    assert info.valid, info.output
    assert info.ome.images[0].pixels.size_c == 3
    with tifffile.TiffFile(out) as written:
        planes = [page.asarray() for page in written.series[0].pages]
    assert all(np.array_equal(planes[c], pixels[..., c]) for c in range(3))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sample", [GEMINI, MERLIN], ids=lambda p: p.stem)
@pytest.mark.parametrize("length", [0, 4, 8, 100, 300, 5000, 40_000, 200_000, -1])
def test_truncated(sample: Path, tmp_path: Path, length: int) -> None:
    data = sample.read_bytes()
    path = tmp_path / sample.name
    path.write_bytes(data[: len(data) - 1 if length == -1 else length])
    with pytest.raises(FormatError) as caught:
        sem_tif.read_metadata(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(FormatError):
        sem_tif.convert(path, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [7, 512, 65536])
def test_random_bytes(tmp_path: Path, size: int) -> None:
    path = tmp_path / "random.tif"
    path.write_bytes(random.Random(size).randbytes(size))
    with pytest.raises(FormatError, match="damaged or incomplete"):
        sem_tif.read_metadata(path)


def _mutate(data: bytes, region: int, rng: random.Random) -> bytes:
    """Damage ``data`` at a seeded offset inside its first ``region`` bytes."""
    buf = bytearray(data)
    at = rng.randrange(region)
    kind = rng.choice(["flip", "flip", "flip", "truncate", "insert", "delete", "zero"])
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(region)] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[at:]
    elif kind == "insert":
        buf[at:at] = rng.randbytes(rng.randint(1, 16))
    elif kind == "delete":
        del buf[at : at + rng.randint(1, 16)]
    else:
        buf[at : at + 32] = bytes(len(buf[at : at + 32]))
    return bytes(buf)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("seed", range(200))
def test_mutated_structure(tmp_path: Path, seed: int) -> None:
    """Damage where the structure lives (header, IFD, palette, CZ_SEM text): read or FormatError."""
    rng = random.Random(f"sem-{seed}")
    sample = rng.choice([GEMINI, MERLIN])
    with tifffile.TiffFile(sample) as tif:
        pixels_start = tif.pages.first.dataoffsets[0]
    path = tmp_path / sample.name
    shutil.copyfile(sample, path)
    path.write_bytes(_mutate(path.read_bytes(), pixels_start, rng))
    try:
        sem_tif.read_metadata(path)
        (out,) = sem_tif.convert(path, tmp_path / "out")
        assert out.is_file()
    except FormatError as exc:
        assert str(exc) and "\n" not in str(exc)
