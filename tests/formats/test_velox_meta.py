"""The quick Velox metadata reader gives exactly what rosettasciio's reader gives.

``emd.read_metadata`` reads with ``_velox_meta.summarise`` and falls back to
rosettasciio's reader (``emd._full_metadata``, the path ``convert`` takes) for
anything unusual. Both must agree on every file: the same FileMetadata, or the
same FormatError. Checked on the samples, on variants whose JSON metadata is
edited at random (missing keys, wrong types, odd numbers and units), and on
byte-level mutants.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from cci_uploader.formats import FileMetadata, FormatError, emd
from cci_uploader.formats._velox_meta import Unusual, summarise

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
EMD_SAMPLES = sorted((SAMPLES / "emd").glob("*.emd"))
VARIANTS_PER_SAMPLE = 120
MUTANTS_PER_SAMPLE = 60

Outcome = tuple[str, Any]


def _outcome(read: Callable[[Path], FileMetadata], path: Path) -> Outcome:
    try:
        return "ok", read(path)
    except FormatError as exc:
        return "FormatError", str(exc)


def _assert_same(path: Path) -> Outcome:
    fast = _outcome(emd.read_metadata, path)
    assert fast == _outcome(emd._full_metadata, path)
    return fast


def test_there_are_emd_samples() -> None:
    assert len(EMD_SAMPLES) >= 3


@pytest.mark.parametrize("path", EMD_SAMPLES, ids=lambda p: p.name)
def test_samples_take_the_quick_path_and_agree(path: Path) -> None:
    summary = summarise(path)  # raises Unusual if the sample needed the full reader
    with emd._opened(path) as contents:
        assert summary.titles == tuple(s.title for s in contents.signals)
        assert summary.skipped == tuple(contents.skipped)
    assert _assert_same(path)[0] == "ok"


def test_spectra_only_file_agrees(tmp_path: Path) -> None:
    path = tmp_path / "spectra.emd"
    with h5py.File(path, "w") as f:
        f.create_dataset("Version", data=[json.dumps({"format": "Velox", "version": "11"})])
        f.create_group("Data/Spectrum")
    assert summarise(path).titles == ()
    assert _assert_same(path)[0] == "ok"


# --- JSON-level variants -------------------------------------------------------------

_ODD_VALUES: list[Any] = [
    None,
    "",
    "x",
    "0",
    "1e-9",
    0,
    -1,
    1.5,
    10**400,
    [],
    {},
    True,
    "nan",
    "inf",
    "1/m",
    "nm",
    "pm",
    "Å",
    "cm",
    "true",
    "false",
    "1",
]


def _json_sites(f: h5py.File) -> list[str]:
    """Paths of every JSON text in the file: image/spectrum Metadata and metadata groups."""
    sites: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        image_json = name.endswith("/Metadata") and obj.dtype == np.uint8
        text = obj.shape == (1,) and h5py.check_string_dtype(obj.dtype) is not None
        if image_json or (text and not name.startswith("Data/")):
            sites.append(name)

    f.visititems(visit)
    return sorted(sites)


def _read_json(ds: h5py.Dataset) -> Any:
    if ds.dtype == np.uint8:
        return json.loads(bytes(ds[:, 0]).rstrip(b"\0"))
    return json.loads(ds[0])


def _write_json(ds: h5py.Dataset, value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False).encode("utf-8")
    if ds.dtype == np.uint8:
        column = np.zeros(ds.shape[0], dtype=np.uint8)
        column[: len(text)] = np.frombuffer(text[: ds.shape[0]], dtype=np.uint8)
        ds[:, 0] = column
    else:
        ds[0] = text


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


# Keys rosettasciio or the uploader read; edits aim at them half of the time.
_INTERESTING = {
    "BinaryResult",
    "PixelSize",
    "PixelUnitX",
    "width",
    "height",
    "Offset",
    "x",
    "y",
    "DetectorIndex",
    "Detectors",
    "DetectorName",
    "Detector",
    "Acquisition",
    "AcquisitionStartDatetime",
    "DateTime",
    "CustomProperties",
    "Scan",
    "FrameTime",
    "ExposureTime",
    "Instrument",
    "InstrumentModel",
    "InstrumentId",
    "dataPath",
    "unfilteredDataPath",
    "integrationMode",
    "enableFilter",
    "outputs",
    "inputIndex",
    "cameraName",
    "detector",
    "data",
    "id",
    "display",
    "label",
    "version",
    "format",
}


def _edit(value: Any, rng: random.Random) -> Any:
    """Return ``value`` with one random key deleted or one value replaced."""
    paths = _paths(value)
    interesting = [p for p in paths if p[-1] in _INTERESTING]
    if not paths or rng.random() < 0.1:
        return rng.choice(_ODD_VALUES)
    path = rng.choice(interesting if interesting and rng.random() < 0.5 else paths)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(_ODD_VALUES)
    return value


VARIANTS = [(p, seed) for p in EMD_SAMPLES for seed in range(VARIANTS_PER_SAMPLE)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("sample", "seed"), VARIANTS, ids=[f"{p.stem[:12]}-{s:03d}" for p, s in VARIANTS]
)
def test_edited_metadata_gives_the_same_outcome(sample: Path, seed: int, tmp_path: Path) -> None:
    path = Path(shutil.copyfile(sample, tmp_path / sample.name))
    rng = random.Random(f"{sample.name}-{seed}")
    with h5py.File(path, "r+") as f:
        for site in rng.sample(_json_sites(f), rng.choice([1, 1, 2])):
            _write_json(f[site], _edit(_read_json(f[site]), rng))
    _assert_same(path)


@pytest.mark.parametrize("unit", ["nm", "pm", "Å", "um", "µm", "mm"])
def test_other_length_units_take_the_quick_path(unit: str, tmp_path: Path) -> None:
    sample = SAMPLES / "emd/fei_example_tem_stack.emd"
    path = Path(shutil.copyfile(sample, tmp_path / sample.name))
    with h5py.File(path, "r+") as f:
        (key,) = f["Data/Image"]
        ds = f[f"Data/Image/{key}/Metadata"]
        value = _read_json(ds)
        value["BinaryResult"]["PixelUnitX"] = unit
        value["BinaryResult"]["PixelSize"] = {"width": "0.123", "height": "0.456"}
        _write_json(ds, value)
    assert summarise(path).pixel_sizes
    assert _assert_same(path)[0] == "ok"


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [
        ("<f8", (3, 3, 1)),
        ("|b1", (3, 3, 2)),
        ("<c8", (3, 3, 1)),
        ("<i2", (3, 3, 0)),
        ("<i2", (3, 3)),
        ("<i2", (3, 3, 1, 1)),
        ("S4", (3, 3, 1)),
    ],
)
def test_other_image_datasets_give_the_same_outcome(
    dtype: str, shape: tuple[int, ...], tmp_path: Path
) -> None:
    sample = SAMPLES / "emd/fei_example_tem_stack.emd"
    path = Path(shutil.copyfile(sample, tmp_path / sample.name))
    with h5py.File(path, "r+") as f:
        (key,) = f["Data/Image"]
        del f[f"Data/Image/{key}/Data"]
        chunks = tuple(max(n, 1) for n in shape)  # Velox writes chunked images
        maxshape = tuple(None if n == 0 else n for n in shape)
        f.create_dataset(
            f"Data/Image/{key}/Data", shape=shape, dtype=dtype, chunks=chunks, maxshape=maxshape
        )
    _assert_same(path)


def test_unusual_file_is_left_to_the_full_reader(tmp_path: Path) -> None:
    sample = SAMPLES / "emd/fei_example_tem_stack.emd"
    path = Path(shutil.copyfile(sample, tmp_path / sample.name))
    with h5py.File(path, "r+") as f:
        (key,) = f["Data/Image"]
        ds = f[f"Data/Image/{key}/Metadata"]
        value = _read_json(ds)
        value["BinaryResult"]["PixelUnitX"] = "1/m"  # diffraction: pint and the axes decide
        _write_json(ds, value)
    with pytest.raises(Unusual):
        summarise(path)
    outcome = _assert_same(path)
    assert outcome[0] == "ok" and outcome[1].pixel_size_m is None


@pytest.mark.parametrize("where", [("BinaryResult", "PixelSize", "width"), ("Scan", "FrameTime")])
def test_number_too_large_for_a_float_is_a_format_error(
    where: tuple[str, ...], tmp_path: Path
) -> None:
    sample = SAMPLES / "emd/fei_example_tem_stack.emd"  # a stack: FrameTime is read
    path = Path(shutil.copyfile(sample, tmp_path / sample.name))
    with h5py.File(path, "r+") as f:
        (key,) = f["Data/Image"]
        ds = f[f"Data/Image/{key}/Metadata"]
        value = _read_json(ds)
        parent = value
        for step in where[:-1]:
            parent = parent[step]
        parent[where[-1]] = 10**400  # float() raises OverflowError
        _write_json(ds, value)
    assert _assert_same(path)[0] == "FormatError"


# --- byte-level mutants --------------------------------------------------------------

MUTANTS = [(p, seed) for p in EMD_SAMPLES for seed in range(MUTANTS_PER_SAMPLE)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("sample", "seed"), MUTANTS, ids=[f"{p.stem[:12]}-{s:03d}" for p, s in MUTANTS]
)
def test_mutant_gives_the_same_outcome(sample: Path, seed: int, tmp_path: Path) -> None:
    rng = random.Random(f"velox-{sample.name}-{seed}")
    data = bytearray(sample.read_bytes())
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path = tmp_path / sample.name
    path.write_bytes(bytes(data))
    _assert_same(path)
