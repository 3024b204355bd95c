"""CZI scenes: the image count is one per scene, as Bio-Formats (so OMERO) makes them."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cci_uploader.config import Config
from cci_uploader.formats import czi
from cci_uploader.plan import plan_file
from cci_uploader.scan import scan_file
from tests.formats.bioformats import ImageInfo

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
CZI_SAMPLES = sorted((SAMPLES / "czi").glob("*.czi"))


def _write_scenes(path: Path, scenes: int) -> Path:
    """A CZI with ``scenes`` scenes, written by Zeiss's own libCZI (pylibCZIrw)."""
    from pylibCZIrw import czi as libczi

    with libczi.create_czi(str(path), exist_ok=True) as document:
        for scene in range(scenes):
            document.write(
                np.full((32, 48), scene * 10, np.uint16),
                plane={"C": 0, "Z": 0, "T": 0},
                scene=scene,
                location=(scene * 100, 0),
            )
        document.write_metadata(document_name="scenes", scale_x=0.2e-6, scale_y=0.2e-6)
    return path


def test_three_scenes_are_three_images(
    tmp_path: Path, bioformats: Callable[[Path], ImageInfo]
) -> None:
    path = _write_scenes(tmp_path / "three wells.czi", 3)
    meta = czi.read_metadata(path)
    assert meta.images == 3
    assert meta.pixel_size_m == (0.2e-6, 0.2e-6)
    # Bio-Formats, which OMERO imports with, makes one series per scene.
    assert bioformats(path).series == 3


@pytest.mark.parametrize("name", ["CD_s_1_t_3_c_2_z_5.czi", "czitools_WellD6_S1.czi"])
def test_scene_count_read_without_pixels_matches_bioformats_on_samples(
    name: str, bioformats: Callable[[Path], ImageInfo]
) -> None:
    sample = SAMPLES / "czi" / name
    with warnings.catch_warnings():
        # ome-types renames ZEN's non-OME ids (e.g. "Beamsplitter.2076-903") with a warning.
        warnings.simplefilter("ignore", UserWarning)
        series = bioformats(sample).series
    assert czi.read_metadata(sample).images == series


def test_scan_json_counts_scenes_and_dates_an_undated_czi(
    tmp_path: Path, pin_tz: Callable[[str], None]
) -> None:
    pin_tz("Europe/Stockholm")
    path = _write_scenes(tmp_path / "plate.czi", 3)
    stamp = 1_750_000_000  # 2025-06-15 15:06:40 UTC, 17:06:40 in Stockholm
    os.utime(path, (stamp, stamp))
    entry = scan_file(path, Config())
    assert entry.ok, entry.reason
    record = plan_file(entry, Config()).to_json()
    assert record["images"] == 3
    assert record["date_source"] == "file_modified"
    assert record["acquired"] == "2025-06-15T17:06:40+02:00"


@pytest.mark.parametrize("sample", CZI_SAMPLES, ids=lambda p: p.name)
def test_date_source_of_samples(sample: Path) -> None:
    """ZEN black writes only a creation date: the scan says so."""
    raw = czi.read_raw_xml(sample)
    has_acquisition = "<AcquisitionDateAndTime>" in raw and "<AcquisitionDateAndTime />" not in raw
    expected = "acquisition" if has_acquisition else "creation"
    assert czi.read_metadata(sample).date_source == expected
