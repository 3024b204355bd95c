"""Velox EMD: the acquisition time is the earliest over the image signals that record one.

Variants of a real Velox sample whose image signals' JSON ``Acquisition``
sections are edited with h5py: the first image's timestamp removed, the
others set to known times; both metadata paths (h5py and rosettasciio) must
give the earliest, and a file where no image records a time gets the file's
modification time from the scan.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from cci_uploader.config import Config
from cci_uploader.formats import emd
from cci_uploader.plan import DateSource, plan_file
from cci_uploader.scan import scan_file

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
DPC = SAMPLES / "emd/fei_example_dpc_titles.emd"  # nine image signals (one complex)


def _read(ds: h5py.Dataset) -> Any:
    return json.loads(bytes(ds[:, 0]).rstrip(b"\0"))


def _write(ds: h5py.Dataset, value: Any) -> None:
    text = json.dumps(value).encode("utf-8")
    assert len(text) <= ds.shape[0]
    column = np.zeros(ds.shape[0], dtype=np.uint8)
    column[: len(text)] = np.frombuffer(text, dtype=np.uint8)
    ds[:, 0] = column


def _variant(tmp_path: Path, times: list[int | None]) -> Path:
    """Copy the sample, giving image signal ``n`` the unix time ``times[n]`` (None: no time)."""
    path = tmp_path / "variant.emd"
    shutil.copyfile(DPC, path)
    with h5py.File(path, "r+") as f:
        images = f["Data/Image"]
        keys = list(images.keys())
        assert len(keys) == len(times)
        for key, seconds in zip(keys, times, strict=True):
            ds = images[key]["Metadata"]
            meta = _read(ds)
            acquisition = meta["Acquisition"]
            acquisition.pop("AcquisitionDatetime", None)
            if seconds is None:
                acquisition.pop("AcquisitionStartDatetime", None)
            else:
                acquisition["AcquisitionStartDatetime"] = {"DateTime": str(seconds)}
            _write(ds, meta)
    return path


def _both_paths(path: Path) -> dt.datetime | None:
    quick, full = emd.read_metadata(path), emd._full_metadata(path)
    assert quick.acquired == full.acquired
    return quick.acquired


def test_earliest_over_images_when_the_first_has_none(tmp_path: Path) -> None:
    base = 1_700_000_000
    times: list[int | None] = [
        None,
        base + 50,
        base + 20,
        base + 90,
        None,
        base + 60,
        None,
        None,
        base + 30,
    ]
    path = _variant(tmp_path, times)
    assert _both_paths(path) == dt.datetime.fromtimestamp(base + 20, dt.UTC)
    assert scan_file(path, Config()).date_source == "acquisition"


def test_no_image_time_falls_back_to_file_mtime(
    tmp_path: Path, pin_tz: Callable[[str], None]
) -> None:
    pin_tz("America/Chicago")
    path = _variant(tmp_path, [None] * 9)
    assert _both_paths(path) is None
    stamp = 1_735_700_000  # 2025-01-01 02:53:20 UTC: still 31 December in Chicago
    os.utime(path, (stamp, stamp))
    entry = plan_file(scan_file(path, Config()), Config())
    assert entry.ok, entry.scan.reason  # no longer refused for "records no acquisition date"
    assert entry.date_source is DateSource.FILE_MODIFIED
    assert entry.dataset == "2024-12-31"
    assert entry.date_note == "date taken from the file's modification time"


def test_samples_agree_with_their_first_images_time() -> None:
    """On the unedited samples, every image carries a time; the earliest is the first's or less."""
    for sample in sorted((SAMPLES / "emd").glob("*.emd")):
        with h5py.File(sample, "r") as f:
            seconds = [
                int(
                    _read(f["Data/Image"][k]["Metadata"])["Acquisition"][
                        "AcquisitionStartDatetime"
                    ]["DateTime"]
                )
                for k in f["Data/Image"]
            ]
        assert _both_paths(sample) == dt.datetime.fromtimestamp(min(seconds), dt.UTC), sample.name
