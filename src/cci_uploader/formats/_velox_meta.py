"""Velox EMD metadata straight from the HDF5 file, for scanning.

rosettasciio's Velox reader (used by ``emd.convert``) builds dask arrays and converts
every axis with pint: about 13 ms a file, most of a folder scan. :func:`summarise`
reads the same with h5py alone: the JSON metadata, each image's dtype and shape, and
the titles rosettasciio 0.15 would give (``FeiEMDReader._read_image``,
``_get_detector_name``, ``_parse_image_display``).

It covers the common case only. Whenever a file leaves it, with a missing or
odd value rosettasciio might trip over (a unit pint would have to judge, a
timestamp out of range, an empty image, an unknown dtype) or with any library
error, it raises :class:`Unusual` and ``emd.read_metadata`` lets rosettasciio
read the file, so the result, or the reason for refusing the file, is
always the one rosettasciio's path gives. ``tests/formats/test_velox_meta.py``
compares the two paths on the samples, on edited variants and on mutants.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cci_uploader.formats import limits

if TYPE_CHECKING:
    from pathlib import Path

# Units per metre, for the units Velox writes for real-space pixels.
PER_METRE = {"m": 1.0, "mm": 1e3, "µm": 1e6, "um": 1e6, "nm": 1e9, "pm": 1e12, "Å": 1e10}

# Data groups that hold no images, with how a skipped entry is described.
_NOT_IMAGES = {"Spectrum": "spectrum", "SpectrumImage": "spectrum image"}

# Top-level groups rosettasciio parses (all of them, so a damaged one is noticed).
_METADATA_GROUPS = ("Displays", "Operations", "SharedProperties", "Features")

# Velox's FFT and DPC images: compound dtypes rosettasciio reads as complex.
_COMPLEX_DTYPES = (
    np.dtype([("realFloatHalfEven", "<f4"), ("imagFloatHalfEven", "<f4")]),
    np.dtype([("realFloatHalfOdd", "<f4"), ("imagFloatHalfOdd", "<f4")]),
    np.dtype([("realFloat", "<f4"), ("imagFloat", "<f4")]),
)

# Acquisition times rosettasciio converts on every platform (1970-01-03 to 2100).
_UNIX_RANGE = (2 * 86400.0, 4102444800.0)


class Unusual(Exception):
    """The file is outside what :func:`summarise` covers; use the full reader."""


@dataclass(frozen=True)
class VeloxSummary:
    """What a scan needs from a Velox file, as rosettasciio's path would give it.

    ``titles`` and ``pixel_sizes`` hold one entry per real-valued image;
    ``raw`` is the first image's original metadata (complex or not);
    ``originals`` every image's, in file order.
    """

    titles: tuple[str, ...]
    pixel_sizes: tuple[tuple[float, float], ...]
    skipped: tuple[str, ...]
    raw: Mapping[str, Any]
    originals: tuple[Mapping[str, Any], ...] = ()


def group_metadata(group: Any) -> dict[str, Any]:
    """Decode the JSON metadata Velox stores as a zero-padded byte array."""
    raw = limits.strip_nul(bytes(np.asarray(group["Metadata"][:, 0], dtype=np.uint8)))
    value = json.loads(raw.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("metadata is not a JSON object")
    return value


def skipped_parts(data_group: Any) -> list[str]:
    """Describe the spectra and spectrum images the upload leaves out."""
    skipped: list[str] = []
    for group_name, kind in _NOT_IMAGES.items():
        group = data_group.get(group_name)
        if group is None:
            continue
        for key in group:
            if group_name == "SpectrumImage":
                title = "EDS"
            else:
                binary = group_metadata(group[key]).get("BinaryResult", {})
                title = str(binary.get("Detector") or key)
            skipped.append(f"skipped {kind} '{title}'")
    if "EelsSpectrumImage" in data_group:
        skipped.append("skipped spectrum image 'EELS'")
    return skipped


def _json(value: Any) -> Any:
    """Decode one JSON text as rosettasciio's ``_parse_json`` does."""
    return json.loads(value.decode("utf-8"))


def _has(mapping: Any, key: str) -> bool:
    """Say ``key in mapping.keys()``, raising where rosettasciio's same test raises.

    ``key in mapping`` would also accept a list or a string (JSON can hold
    either where a mapping belongs); rosettasciio calls ``.keys()`` and fails.
    """
    return key in mapping.keys()  # noqa: SIM118


def _number(value: Any) -> float:
    """Return ``float(value)``, or raise :class:`Unusual` where pint would fail."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unusual(f"not a number: {value!r}") from exc


def _text(object_id: Any) -> Any:
    """Return the one string of a Velox text dataset, as ``dataset[0]`` would.

    h5py's low-level API is ten times faster than ``group[name][0]`` here, and a
    Velox file holds dozens of these. Anything but a one-element variable-length
    string is left to the full reader.
    """
    import h5py

    if not isinstance(object_id, h5py.h5d.DatasetID) or object_id.shape != (1,):
        raise Unusual("metadata entry is not a one-element dataset")
    string = h5py.check_string_dtype(object_id.dtype)
    if string is None or string.length is not None:
        raise Unusual("metadata entry is not a variable-length string")
    buffer = np.empty((1,), dtype=object_id.dtype)
    object_id.read(h5py.h5s.ALL, h5py.h5s.ALL, buffer)
    return buffer[0]


def _members(group_id: Any) -> list[tuple[bytes, str]]:
    """List a group's member names in h5py's order, raw and decoded."""
    names = []
    for raw in group_id:
        try:
            names.append((raw, raw.decode("utf8")))
        except UnicodeDecodeError as exc:
            raise Unusual("member name is not UTF-8") from exc
    return names


def _parse_groups(handle: Any) -> dict[str, Any]:
    """Parse the metadata groups as ``FeiEMDReader._parse_metadata_group`` does."""
    import h5py

    parsed: dict[str, Any] = {}
    for name in _METADATA_GROUPS:
        if name not in handle:
            continue
        group = handle.get(name)
        if not isinstance(group, h5py.Group):
            raise Unusual(f"{name} is not a group")
        entries: dict[str, Any] = {}
        for raw, key in _members(group.id):
            sub = h5py.h5o.open(group.id, raw)
            if isinstance(sub, h5py.h5g.GroupID):
                entries[key] = {k: _json(_text(h5py.h5o.open(sub, r))) for r, k in _members(sub)}
            else:
                entries[key] = _json(_text(sub))
        parsed[name] = entries
    return parsed


def _display_titles(handle: Any, version: Any, groups: Mapping[str, Any]) -> dict[str, Any]:
    """Map image ids to display titles as ``FeiEMDReader._parse_image_display`` does."""
    titles: dict[str, Any] = {}
    if int(version) >= 11:
        for value in groups["Displays"]["ImageDisplay"].values():
            if _has(value, "data"):
                path = _json(handle.get(value["data"])[0])["dataPath"]
                titles[path.split("/")[-1]] = value["id"]
    else:
        group = handle.get("Presentation/Displays/ImageDisplay")
        for key in list(group.keys()):
            value = _json(group[key][0])
            titles[value["dataPath"].split("/")[-1]] = value["display"]["label"]
    return titles


def _dpc_mode(op: Mapping[str, Any]) -> str:
    return "iDPC" if op["integrationMode"] == "true" else "dDPC"


type _Title = Callable[[Mapping[str, Any], str], Any]


def _surface_title(op: Mapping[str, Any], key: str) -> str | None:
    if _has(op, "unfilteredDataPath") and key in op["unfilteredDataPath"]:
        return _dpc_mode(op)
    if key in op["dataPath"]:
        mode = _dpc_mode(op)
        return f"Filtered {mode}" if op["enableFilter"] == "true" else mode
    return None


def _mathematics_title(op: Mapping[str, Any], key: str) -> str | None:
    index = op["outputs"][0]["inputIndex"] if key in op["dataPath"] else None
    return {"0": "A-C", "1": "B-D"}.get(index) if index is not None else None


# FeiEMDReader._get_detector_name's operations, in its order, and each one's title.
_TITLES: dict[str, _Title] = {
    "CameraInputOperation": lambda op, key: op["cameraName"] if key in op["dataPath"] else None,
    "StemInputOperation": lambda op, key: op["detector"] if key in op["dataPath"] else None,
    "SurfaceReconstructionOperation": _surface_title,
    "MathematicsOperation": _mathematics_title,
    "DpcOperation": lambda op, key: "DPC" if key in op["dataPath"] else None,
    "IntegrationOperation": lambda op, key: "DCFI" if key in op["dataPath"] else None,
    "FftOperation": lambda op, key: "Half FFT" if key in op["imageOutputPath"] else None,
}


def _operation_title(operations: Mapping[str, Any], key: str) -> Any:
    """Port of ``FeiEMDReader._get_detector_name``; a KeyError means "no operation"."""
    for kind, title in _TITLES.items():
        if not _has(operations, kind):
            continue
        for _, op in operations[kind].items():
            found = title(op, key)
            if found is not None:
                return found
    return "Unrecognized_image_signal"


@dataclass
class _Reader:
    """The state rosettasciio's reader carries from one image to the next."""

    groups: dict[str, Any]
    labels: dict[str, Any]
    detector_name: Any = None


@dataclass(frozen=True)
class _Image:
    title: str
    complex: bool
    pixel_size: tuple[float, float] | None
    original: dict[str, Any]


def _original_metadata(group: Any) -> dict[str, Any]:
    """Decode an image's JSON as rosettasciio's ``_parse_sub_data_group_metadata`` does."""
    metadata = group["Metadata"]
    if metadata.dtype != np.uint8:
        raise Unusual(f"metadata of dtype {metadata.dtype}")
    # Stripping the bytes before decoding is equivalent, and quicker on 60 kB.
    text = limits.strip_nul(metadata[:, 0].T.tobytes()).decode("utf-8")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise Unusual("image metadata is not a JSON object")
    return value


def _is_complex(data: Any) -> bool:
    """Say whether rosettasciio reads ``data`` as complex; raise Unusual if unsure."""
    if data.ndim != 3 or min(data.shape) < 1:
        raise Unusual(f"image of shape {data.shape}")
    if data.chunks is None:
        raise Unusual("contiguous image")  # rosettasciio's lazy reader refuses these
    dtype = data.dtype
    if dtype in _COMPLEX_DTYPES or dtype.kind == "c":
        return True
    if dtype.kind in "biuf":
        return False
    raise Unusual(f"image of dtype {dtype}")


def _check_acquired(om: Mapping[str, Any]) -> None:
    """Check the time ``FeiEMDReader._get_metadata_dict`` converts is convertible."""
    if _has(om["Acquisition"], "AcquisitionStartDatetime"):
        unix = om["Acquisition"]["AcquisitionStartDatetime"]["DateTime"]
    elif not isinstance(om["CustomProperties"], str) and _has(
        om["CustomProperties"], "Detectors[BM-Ceta].TimeStamp"
    ):
        unix = _number(om["CustomProperties"]["Detectors[BM-Ceta].TimeStamp"]["value"]) / 1e6
    else:
        return
    seconds = _number(unix)
    if not _UNIX_RANGE[0] <= seconds < _UNIX_RANGE[1]:
        raise Unusual(f"acquisition time {seconds}")


def _image(reader: _Reader, group: Any, key: str) -> _Image:
    """Follow ``FeiEMDReader._read_image`` for one image, without reading pixels."""
    sub = group[key]
    om = _original_metadata(sub)
    om.update(reader.groups)
    index = om["BinaryResult"].get("DetectorIndex") if _has(om, "BinaryResult") else 0
    information = om["Detectors"][f"Detector-{index}"] if index is not None else None
    try:
        reader.detector_name = _operation_title(reader.groups["Operations"], key)
    except KeyError:
        if information is not None:
            reader.detector_name = information["DetectorName"]
    data = sub["Data"]
    is_complex = _is_complex(data)
    frames = data.shape[2]
    binary = om["BinaryResult"]
    scale = binary.get("PixelSize", {"height": 1.0, "width": 1.0})
    offsets = binary.get("Offset", {"x": 0.0, "y": 0.0})
    unit = binary.get("PixelUnitX", "")
    if frames != 1:
        if "FrameTime" in om["Scan"]:
            _number(om["Scan"]["FrameTime"])
        else:
            detector = om["Detectors"][f"Detector-{binary['DetectorIndex']}"]
            _number(detector["ExposureTime"])
    if not isinstance(unit, str) or unit not in PER_METRE:
        raise Unusual(f"pixel unit {unit!r}")  # pint would decide, and the axes give the size
    width, height = _number(scale["width"]), _number(scale["height"])
    _number(offsets["x"]), _number(offsets["y"])
    _check_acquired(om)
    if reader.detector_name is not None:
        detectors = om["Detectors"]
        om["DetectorMetadata"] = next(
            (
                detectors[k]
                for k in detectors
                if detectors[k]["DetectorName"] == reader.detector_name
            ),
            None,
        )
    title = reader.labels.get(key, reader.detector_name)
    size = None
    if not is_complex:
        if not (isinstance(binary.get("PixelSize"), Mapping) and width > 0 and height > 0):
            raise Unusual("no usable Velox pixel size")
        size = (width / PER_METRE[unit], height / PER_METRE[unit])
    return _Image(str(title or "image"), is_complex, size, om)


def _summarise(handle: Any) -> VeloxSummary:
    import h5py

    version = handle.get("Version")
    if not isinstance(version, h5py.Dataset) or version.shape != (1,):
        raise Unusual("no Velox version")
    text = version[0]
    info = json.loads(text)
    if info.get("format") not in ("Velox", "DevelopersKit"):
        raise Unusual("not written by Velox")
    data = handle.get("Data")
    if not isinstance(data, h5py.Group):
        raise Unusual("no data group")
    number = _json(text)["version"]
    groups = _parse_groups(handle)
    labels: dict[str, Any] = {}
    if "Image" in data and "SpectrumImage" in data:
        labels = _display_titles(handle, number, groups)
    reader = _Reader(groups, labels)
    images: list[_Image] = []
    if "Image" in data:
        image_group = data.get("Image")
        if image_group is not None:
            images = [_image(reader, image_group, key) for key in list(image_group.keys())]
    skipped = skipped_parts(data)
    skipped += [f"skipped complex image '{i.title}'" for i in images if i.complex]
    real = [i for i in images if not i.complex]
    return VeloxSummary(
        titles=tuple(i.title for i in real),
        pixel_sizes=tuple(i.pixel_size for i in real if i.pixel_size is not None),
        skipped=tuple(skipped),
        raw=images[0].original if images else {},
        originals=tuple(i.original for i in images),
    )


def summarise(path: Path, check: Callable[[Any, Path], None] | None = None) -> VeloxSummary:
    """Read what a scan needs from the Velox file ``path``, opened read-only.

    Raises
    ------
    Unusual
        If the file is not the common case; read it with rosettasciio instead.
    OSError, RuntimeError, KeyError, ValueError, IndexError, TypeError, AttributeError
        From h5py or the JSON, if the file is damaged; rosettasciio then says how.
    """
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise Unusual("not an HDF5 file h5py can open") from exc
    with handle:
        if check is not None:
            check(handle, path)  # limits: a FormatError here is final
        return _summarise(handle)
