"""The plan: each file's Project, Dataset and pairs, and why, as enums."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from cci_uploader.config import UNKNOWN_MICROSCOPE, Config
from cci_uploader.formats import czi
from cci_uploader.plan import (
    DateSource,
    MicroscopeSource,
    map_microscope,
    plan,
    plan_file,
    remap,
    with_pairs,
)
from cci_uploader.scan import scan_file, scan_paths

CZI = "czi"
MAPPED = "CD_s_1_t_3_c_2_z_5.czi"  # Name="Castor.Stand"
NAMELESS = "RGB-8bit.czi"  # no Microscope element
STORED = "tiles_z.czi"  # System "LSM 880 IndiMo, AxioObserver"


def test_map_microscope_says_where_the_name_came_from() -> None:
    config = Config(microscope_map={"2635000123": "LSM 980"}, default_microscope="Scope 1")
    assert map_microscope("2635000123", config) == ("LSM 980", MicroscopeSource.MAPPED)
    assert map_microscope("Talos", config) == ("Talos", MicroscopeSource.STORED)
    assert map_microscope(None, config) == ("Scope 1", MicroscopeSource.PC_DEFAULT)
    assert map_microscope(None, Config()) == (UNKNOWN_MICROSCOPE, MicroscopeSource.UNKNOWN)


@pytest.mark.parametrize(
    ("name", "config", "source", "project", "note"),
    [
        (
            MAPPED,
            Config(microscope_map={"Castor.Stand": "Celldiscoverer 7"}),
            MicroscopeSource.MAPPED,
            "Celldiscoverer 7",
            "mapped from 'Castor.Stand'",
        ),
        (STORED, Config(), MicroscopeSource.STORED, "LSM 880 IndiMo, AxioObserver", None),
        (
            NAMELESS,
            Config(default_microscope="PC1"),
            MicroscopeSource.PC_DEFAULT,
            "PC1",
            "the file names no microscope: this PC's default",
        ),
        (
            NAMELESS,
            Config(),
            MicroscopeSource.UNKNOWN,
            UNKNOWN_MICROSCOPE,
            "the file names no microscope and this PC has no default",
        ),
    ],
)
def test_each_microscope_source_and_its_words(
    samples: Path,
    name: str,
    config: Config,
    source: MicroscopeSource,
    project: str,
    note: str | None,
) -> None:
    [file] = plan(scan_paths([samples / CZI / name], config), config)
    assert file.microscope_source is source
    assert file.project == project
    assert file.microscope_note == (note or "as stored in the file")
    assert file.to_json()["microscope_note"] == file.microscope_note


@pytest.mark.parametrize("name", [MAPPED, NAMELESS, STORED])
def test_the_date_source_of_each_czi_sample(samples: Path, name: str) -> None:
    path = samples / CZI / name
    file = plan_file(scan_file(path, Config()), Config())
    raw = czi.read_raw_xml(path)
    stored = "<AcquisitionDateAndTime>" in raw and "<AcquisitionDateAndTime />" not in raw
    if stored:
        assert file.date_source is DateSource.ACQUISITION
        assert file.date_note == ""
    else:
        assert file.date_source is DateSource.CREATION
        assert file.date_note == "date taken from the document's creation time"
    assert file.dataset == file.to_json()["dataset"] and file.dataset


def test_a_file_without_a_date_is_dated_by_its_modification_time(
    samples: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "atlas export.tif"
    shutil.copyfile(samples / "fibics" / "fibics_test.tif", copy)
    moment = dt.datetime(2025, 6, 30, 12, 0).timestamp()  # noon here: the same local date
    os.utime(copy, (moment, moment))
    file = plan_file(scan_file(copy, Config()), Config())
    assert file.ok, file.scan.reason
    assert file.date_source is DateSource.FILE_MODIFIED
    assert file.dataset == "2025-06-30"
    assert file.date_note == "date taken from the file's modification time"


def test_an_unreadable_file_has_no_target_and_says_nothing_of_one(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not microscopy")
    file = plan_file(scan_file(notes, Config()), Config(default_microscope="PC1"))
    assert file.refused
    assert file.microscope_source is None and file.project is None
    assert file.date_source is DateSource.UNKNOWN and file.dataset is None
    assert (file.microscope_note, file.date_note) == ("", "")


def test_pairs_are_cleaned_and_a_folder_is_a_pair(samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "grid\x1b3"
    folder.mkdir()
    shutil.copyfile(samples / CZI / STORED, folder / STORED)
    [file] = plan(scan_paths([folder], Config()), Config(), [("Sample", "S\x001"), ("", "x")])
    assert file.pairs == (("Sample", "S1"), ("Folder", "grid3"))
    assert len(file.pair_notes) == 2 and all("cleaned" in n for n in file.pair_notes)
    assert with_pairs(file, []).pairs == (("Folder", "grid3"),)


def test_remap_follows_this_pcs_microscope_only_for_files_naming_none(samples: Path) -> None:
    files = plan(scan_paths([samples / CZI / NAMELESS, samples / CZI / STORED], Config()), Config())
    nameless, stored = (with_pairs(f, [("Sample", "S1")]) for f in files)
    moved = remap(nameless, Config(default_microscope="PC2"))
    assert (moved.project, moved.microscope_source) == ("PC2", MicroscopeSource.PC_DEFAULT)
    assert moved.pairs == nameless.pairs  # the batch's pairs stay
    assert remap(stored, Config(default_microscope="PC2")) is stored
