"""FEI TIA (TEM Imaging & Analysis) EMI+SER pairs: converted to one OME-TIFF.

TIA writes ``X.emi`` (acquisition metadata: date, microscope, high tension)
and one ``X_1.ser``, ``X_2.ser``, ... per signal (the pixels). Each image
series becomes one OME Image named after its ``.ser``; spectra are skipped.

rosettasciio reads both halves: ``get_xml_info_from_emi`` for the EMI's
ObjectInfo blocks and ``ser_reader`` for each SER. We pair them ourselves
instead of calling ``rsciio.tia.file_reader`` on the ``.emi``, which finds the
SERs with a glob: it misses ``_10.ser`` and above, and finds nothing when the
name holds ``[`` (``grid [2].emi``). Before a SER reaches rosettasciio its
header is checked against the file size (:func:`._ser_header.check_ser`): rosettasciio
trusts the element count and offsets, so a damaged header would make it
allocate gigabytes or loop for hours.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cci_uploader.formats import _em_acquisition, _ser_summary, limits
from cci_uploader.formats._ser_header import SerHeader, check_ser
from cci_uploader.formats.base import Companions, FileMetadata, FormatDescriptor, FormatError

if TYPE_CHECKING:
    from pathlib import Path

NAME = "emi_ser"
EXTENSIONS = (".emi",)

_SER_NAME = re.compile(r"^(?P<stem>.+)_(?P<index>[0-9]+)\.ser$", re.IGNORECASE)
# A SER's first time tag and the EMI's local date differ by the PC's UTC
# offset (at most 14 h) plus the acquisition time; beyond this they are from
# different acquisitions.
_MAX_CLOCK_GAP = dt.timedelta(hours=15)
_READ_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError)


@dataclass(frozen=True)
class _Series:
    """One image series; ``signal`` is rosettasciio's, None when read from the header."""

    name: str
    path: Path
    header: SerHeader
    signal: dict[str, Any] | None
    xy_units: frozenset[str | None]


@dataclass(frozen=True)
class _Pair:
    """An EMI's first ObjectInfo, all its ``.ser`` files, and what they hold."""

    info: dict[str, Any]
    sers: list[Path]
    series: list[_Series]
    skipped: list[str]


def is_supported(path: Path) -> bool:
    """Say whether ``path`` is a TIA ``.emi`` file; its ``.ser`` files are companions."""
    try:
        return path.suffix.lower() in EXTENSIONS and path.is_file()
    except OSError:
        return False


def companion_of(path: Path) -> Path | None:
    """Return the ``.emi`` that a ``X_<n>.ser`` belongs to, if it exists beside it."""
    match = _SER_NAME.match(path.name)
    if match is None:
        return None
    for suffix in (".emi", ".EMI", ".Emi"):
        candidate = path.with_name(match["stem"] + suffix)
        if candidate.is_file():
            return candidate
    return None


def ser_files(emi: Path) -> list[Path]:
    """Return the ``.ser`` files of ``emi`` (``X_1.ser``, ``X_2.ser``, ...) in order."""
    found = []
    for candidate in emi.parent.iterdir():
        match = _SER_NAME.match(candidate.name)
        if match and match["stem"] == emi.stem and candidate.is_file():
            found.append((int(match["index"]), candidate))
    return [candidate for _, candidate in sorted(found)]


def _object_infos(emi: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the EMI's ObjectInfo blocks, as XML and as parsed by rosettasciio."""
    from rsciio.tia._api import convert_xml_to_dict, get_xml_info_from_emi

    try:
        limits.check_emi(emi)
        blocks: list[str] = get_xml_info_from_emi(str(emi))
        infos = [convert_xml_to_dict(block).to_dict().get("ObjectInfo") for block in blocks]
    except OSError as exc:
        raise FormatError(f"{emi.name} cannot be opened ({exc.strerror or exc}).") from exc
    except (ET.ParseError, *_READ_ERRORS) as exc:
        raise FormatError(
            f"{emi.name} has damaged metadata; copy it again from the microscope PC."
        ) from exc
    if not infos or not all(isinstance(info, dict) for info in infos):
        raise FormatError(
            f"{emi.name} is not a TIA .emi file (it holds no acquisition metadata); "
            "check where it came from."
        )
    return blocks, infos


def _acquired(info: Mapping[str, Any]) -> dt.datetime | None:
    """Return the acquisition time; TIA writes the microscope PC's local time."""
    text = str(info.get("AcquireDate") or "").strip()
    try:
        naive = dt.datetime.strptime(text, "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return naive.astimezone()


def _microscope(info: Mapping[str, Any]) -> str | None:
    description = info.get("ExperimentalDescription")
    if not isinstance(description, Mapping):
        return None
    value = str(description.get("Microscope") or "").strip()
    return value.removeprefix("Microscope ").strip() or None


def _check_pair(emi: Path, ser: Path, header: SerHeader, acquired: dt.datetime | None) -> None:
    """Refuse a ``.ser`` whose clock says it belongs to another acquisition."""
    if acquired is None or header.first_time == 0:
        return
    recorded = dt.datetime.fromtimestamp(header.first_time, dt.UTC).replace(tzinfo=None)
    if abs(recorded - acquired.replace(tzinfo=None)) > _MAX_CLOCK_GAP:
        raise FormatError(
            f"{ser.name} was recorded on {recorded:%Y-%m-%d}, not with {emi.name}; "
            "put the matching .ser files beside it."
        )


def _read(emi: Path, *, lazy: bool) -> _Pair:
    """Read the EMI's metadata and its SERs (pixels only if not ``lazy``)."""
    if not emi.is_file():
        raise FormatError(f"{emi.name} does not exist or is not a file; check the path.")
    sers = ser_files(emi)
    if not sers:
        raise FormatError(
            f"{emi.name} has no {emi.stem}_1.ser beside it; copy the .ser file(s) too."
        )
    blocks, infos = _object_infos(emi)
    series, skipped = [], []
    for index, ser in enumerate(sers):
        header = check_ser(ser)
        # TIA writes one ObjectInfo per signal, in .ser order.
        block = min(index, len(blocks) - 1)
        _check_pair(emi, ser, header, _acquired(infos[block]))
        if not header.images:
            skipped.append(f"skipped spectrum '{ser.stem}'")
            continue
        summary = _summary(ser, blocks[block], infos[block], lazy=lazy)
        if summary.complex:
            skipped.append(f"skipped complex image '{ser.stem}'")
        elif summary.ndim not in (2, 3):
            skipped.append(f"skipped {summary.ndim}-D scan '{ser.stem}'")
        else:
            series.append(_Series(ser.stem, ser, header, summary.signal, summary.xy_units))
    return _Pair(infos[0], sers, series, skipped)


@dataclass(frozen=True)
class _Summary:
    """A series as rosettasciio describes it; ``signal`` only when its pixels were read."""

    complex: bool
    ndim: int
    xy_units: frozenset[str | None]
    signal: dict[str, Any] | None = None


def _summary(ser: Path, block: str, info: Mapping[str, Any], *, lazy: bool) -> _Summary:
    """Describe one image series: from its header for a scan, else with rosettasciio.

    ``ser_reader`` reads every element into memory even when lazy, so a scan
    reads only the header (:mod:`._ser_summary`) unless the series is unusual.
    """
    if lazy:
        try:
            fast = _ser_summary.summarise(ser, info)
        except _ser_summary.Unusual:
            pass  # rosettasciio reads it, and decides
        else:
            return _Summary(fast.complex, fast.ndim, fast.xy_units)
    from rsciio.tia._api import ser_reader

    try:
        with warnings.catch_warnings():
            # Without the EMI's imaging mode rosettasciio assumes real-space
            # units and warns; a reciprocal-space calibration (far above
            # 1 m) is still refused as a pixel size by check_ser.
            warnings.filterwarnings(
                "ignore", "The navigation axes units could not be determined", UserWarning
            )
            signal = ser_reader(str(ser), objects=[block], lazy=lazy)[0]
    except (ET.ParseError, *_READ_ERRORS) as exc:
        raise FormatError(f"{ser.name} is damaged; copy it again from the microscope PC.") from exc
    units = frozenset(a.get("units") for a in signal["axes"] if a.get("name") in ("x", "y"))
    data = signal["data"]
    return _Summary(bool(np.iscomplexobj(data)), data.ndim, units, signal)


def _pixel_size(series: _Series) -> tuple[float, float] | None:
    """Return the SER's calibration (metres) unless rosettasciio found reciprocal space."""
    return series.header.pixel_size_m if series.xy_units == {"nm"} else None


def _metadata(pair: _Pair, emi: Path) -> FileMetadata:
    extra: dict[str, str] = {}
    info = {k: v for k, v in pair.info.items() if k != "TrueImageHeaderInfo"}
    limits.flatten("", info, extra, emi)
    sizes = [size for size in map(_pixel_size, pair.series) if size is not None]
    return FileMetadata(
        microscope=_microscope(pair.info),
        acquired=_acquired(pair.info),
        pixel_size_m=sizes[0] if sizes else None,
        companions=tuple(pair.sers),
        images=len(pair.series),
        skipped=tuple(pair.skipped),
        extra=extra,
        acquisition=_em_acquisition.pick(extra, _em_acquisition.TIA_KEYS),
    )


def read_metadata(path: Path) -> FileMetadata:
    """Read microscope, local acquisition time and pixel size of an EMI+SER pair.

    Parameters
    ----------
    path : Path
        The ``.emi`` file; it and its ``.ser`` files are opened read-only.

    Returns
    -------
    FileMetadata
        ``companions`` lists the ``.ser`` files in order.

    Raises
    ------
    FormatError
        If the ``.emi`` or a ``.ser`` is missing, damaged or mismatched.
    """
    return _metadata(_read(path, lazy=True), path)


def convert(path: Path, out_dir: Path) -> list[Path]:
    """Write the pair's image series into one OME-TIFF, ``out_dir / "<stem>.ome.tif"``.

    ``path`` is the ``.emi`` file; it and its ``.ser`` files are opened read-only.

    Raises
    ------
    FormatError
        If the pair cannot be read or holds no images.
    """
    # Only converting needs ome-types (about 1 s to import), not a scan.
    from cci_uploader.formats.ometiff import OmeImage, write_converted

    pair = _read(path, lazy=False)
    if not pair.series:
        raise FormatError(
            f"{path.name} holds no images, only spectra; upload it as an attachment instead."
        )
    meta = _metadata(pair, path)
    images = [
        OmeImage(s.name, np.ascontiguousarray(_pixels(s)), _pixel_size(s)) for s in pair.series
    ]
    manufacturer = str(pair.info.get("Manufacturer") or "").strip() or None
    return write_converted(path, out_dir, images, meta, manufacturer=manufacturer)


def _pixels(series: _Series) -> Any:
    """A series' pixels, as rosettasciio read them for converting."""
    if series.signal is None:
        raise AssertionError("converting reads every series with rosettasciio")
    return series.signal["data"]


FORMAT = FormatDescriptor(
    name=NAME,
    label="EMI+SER",
    extensions=EXTENSIONS,
    is_supported=is_supported,
    read_metadata=read_metadata,
    convert=convert,
    companions=Companions(
        suffixes=(".ser",),
        main_of=companion_of,
        alone="{name} is the data half of an EMI+SER pair: its .emi file is missing.",
    ),
)
