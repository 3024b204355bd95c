"""A scan reads a TIA series from its header, and finds what rosettasciio's reader finds.

Each case is compared with ``rsciio.tia._api.ser_reader`` itself (lazy, as the
scan used it): complex or not, dimensions, and the x/y units. Where the header
reader steps aside (``Unusual``) rosettasciio reads the file, so the scan's
result, or its refusal, is the same either way.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cci_uploader.formats import FormatError, _ser_summary, tia
from cci_uploader.selftest import samples

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
PAIRS = [
    SAMPLES / "tia/128x128_TEM_acquire-sum1.emi",
    SAMPLES / "tia/64x64_TEM_images_acquire.emi",
]
ACQUIRED = dt.datetime.fromtimestamp(samples.ACQUIRED_UNIX, dt.UTC)


def _ser(
    path: Path,
    *,
    total: int = 1,
    valid: int = 1,
    size: int = 1,
    units: bytes = b"",
    kind: int = 7,
    shape: tuple[int, int] = (4, 6),
    description: bytes = b"Number",
) -> Path:
    """A version 0x0210 image series of ``valid`` of ``total`` elements, one dimension."""
    dimension = (
        struct.pack("<IddII", size, 0.0, 1.0, 0, len(description))
        + description
        + struct.pack("<I", len(units))
        + units
    )
    table = 30 + len(dimension)
    first = table + 8 * total
    item = {7: 4, 9: 8, 2: 2}[kind]
    element = (
        struct.pack("<ddI", 0.0, 2.5e-9, 0)
        + struct.pack("<ddI", 0.0, 2.5e-9, 0)
        + struct.pack("<HII", kind, shape[1], shape[0])
        + bytes(shape[0] * shape[1] * item)
    )
    tag = struct.pack("<HHI", 0x4152, 0, samples.ACQUIRED_UNIX)
    elements = [first + i * (len(element) + len(tag)) for i in range(valid)]
    offsets = elements + [0] * (total - valid)
    tags = [at + len(element) for at in elements] + [0] * (total - valid)
    body = b"".join(element + tag for _ in range(valid))
    head = b"II" + struct.pack("<HHIIII", 0x0197, 0x0210, 0x4122, 0x4152, total, valid)
    path.write_bytes(
        head
        + struct.pack("<II", table, 1)
        + dimension
        + struct.pack(f"<{total}I", *offsets)
        + struct.pack(f"<{total}I", *tags)
        + body
    )
    return path


def _emi(
    folder: Path, *, mode: str | None = None, camera: bool | None = None, date: str = ""
) -> Path:
    """An EMI; ``camera``: AcquireInfo with a camera (True), without one (False), none (None)."""
    data = "<Data><Label>Microscope</Label><Value>Microscope X</Value><Unit></Unit></Data>"
    if mode is not None:
        data += f"<Data><Label>Mode</Label><Value>{mode}</Value><Unit></Unit></Data>"
    experimental = f"<Root>{data}</Root>"
    acquire = {
        True: "<AcquireInfo><CameraNamePath>BM-Ceta</CameraNamePath></AcquireInfo>",
        False: "<AcquireInfo><DwellTimePath>0.5</DwellTimePath></AcquireInfo>",
        None: "",
    }[camera]
    info = (
        f"<ObjectInfo><ExperimentalDescription>{experimental}</ExperimentalDescription>"
        f"<AcquireDate>{date or f'{ACQUIRED:%a %b %d %H:%M:%S %Y}'}</AcquireDate>"
        f"{acquire}</ObjectInfo>"
    )
    emi = folder / "case.emi"
    emi.write_bytes(b"\x00" * 16 + info.encode() + b"\x00" * 16)
    return emi


def _rosettasciio(ser: Path, block: str) -> tuple[bool, int, frozenset[Any]]:
    from rsciio.tia._api import ser_reader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signal = ser_reader(str(ser), objects=[block], lazy=True)[0]
    units = frozenset(a.get("units") for a in signal["axes"] if a.get("name") in ("x", "y"))
    return bool(np.iscomplexobj(signal["data"])), signal["data"].ndim, units


def _compare(emi: Path) -> bool:
    """Header reader against rosettasciio for every series; whether the header reader ran."""
    blocks, infos = tia._object_infos(emi)
    ran = False
    for index, ser in enumerate(tia.ser_files(emi)):
        block = min(index, len(blocks) - 1)
        try:
            ours = _ser_summary.summarise(ser, infos[block])
        except _ser_summary.Unusual:
            continue
        ran = True
        assert (ours.complex, ours.ndim, ours.xy_units) == _rosettasciio(ser, blocks[block])
    return ran


def _metadata_both_ways(emi: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """read_metadata with the header reader, and with rosettasciio alone (or their errors)."""

    def outcome() -> Any:
        try:
            return tia.read_metadata(emi)
        except FormatError as exc:
            return f"FormatError: {exc}"

    fast = outcome()
    with monkeypatch.context() as m:

        def unusual(*_: Any) -> Any:
            raise _ser_summary.Unusual("test")

        m.setattr(_ser_summary, "summarise", unusual)
        slow = outcome()
    return fast, slow


@pytest.mark.parametrize("emi", PAIRS, ids=lambda p: p.name)
def test_the_samples_are_read_from_their_headers(
    emi: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _compare(emi)
    fast, slow = _metadata_both_ways(emi, monkeypatch)
    assert fast == slow
    assert fast.pixel_size_m is not None


CASES = {
    "one image": {},
    "a series of five": {"total": 5, "valid": 5, "size": 5},
    "a series of five in metres": {"total": 5, "valid": 5, "size": 5, "units": b"meters"},
    "units padded with NULs": {"total": 3, "valid": 3, "size": 3, "units": b"meters\0\0"},
    "units of only NULs": {"total": 3, "valid": 3, "size": 3, "units": b"\0\0"},
    "reciprocal metres": {"total": 3, "valid": 3, "size": 3, "units": b"1/meters"},
    "stopped after three of eight": {"total": 8, "valid": 3, "size": 8},
    "stopped after one of eight": {"total": 8, "valid": 1, "size": 8},
    "one of one, but eight planned": {"total": 8, "valid": 2, "size": 1},
    "complex": {"kind": 9},
    "no description": {"description": b""},
    "16-bit": {"kind": 2},
}
MODES = {
    "no mode": {},
    "no mode, a camera": {"camera": True},
    "TEM, no acquisition block": {"mode": "TEM Image"},
    "TEM, a camera": {"mode": "TEM Image", "camera": True},
    "STEM, no camera": {"mode": "STEM", "camera": False},
    "STEM, a camera": {"mode": "STEM", "camera": True},
    "diffraction, no camera": {"mode": "Diffraction", "camera": False},
    "diffraction, no acquisition block": {"mode": "Diffraction"},
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", MODES)
def test_edited_series_read_as_rosettasciio_reads_them(
    case: str, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emi = _emi(tmp_path, **MODES[mode])
    _ser(tmp_path / "case_1.ser", **CASES[case])
    _compare(emi)
    fast, slow = _metadata_both_ways(emi, monkeypatch)
    assert fast == slow


def test_the_header_reader_covers_the_common_cases(tmp_path: Path) -> None:
    covered = []
    for case, fields in CASES.items():
        folder = tmp_path / case.replace(" ", "-")
        folder.mkdir()
        emi = _emi(folder, mode="STEM", camera=False)
        _ser(folder / "case_1.ser", **fields)
        covered.append(_compare(emi))
    assert sum(covered) >= len(CASES) - 1  # all but "one of one, but eight planned"


def test_a_date_rosettasciio_cannot_parse_is_its_to_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emi = _emi(tmp_path, date="the day after the conference")
    _ser(tmp_path / "case_1.ser")
    fast, slow = _metadata_both_ways(emi, monkeypatch)
    assert fast == slow


def test_scanning_a_big_series_reads_no_pixels(tmp_path: Path) -> None:
    emi = _emi(tmp_path, mode="TEM Image")
    ser = _ser(tmp_path / "case_1.ser", total=40, valid=40, size=40, shape=(1024, 1024))
    assert ser.stat().st_size > 160_000_000
    tracemalloc.start()
    try:
        meta = tia.read_metadata(emi)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert meta.images == 1
    assert peak < 5_000_000, f"{peak:,} bytes allocated to scan a {ser.stat().st_size:,}-byte SER"
