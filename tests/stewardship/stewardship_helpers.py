"""Helpers to put data on the stand-in and in the history."""

from __future__ import annotations

import shutil
from pathlib import Path

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from standin import Clock as Clock

CZI = "czi/tiles_z.czi"
TIA = ("tia/64x64_TEM_images_acquire.emi", "tia/64x64_TEM_images_acquire_1.ser")
SEM = "sem_tif/test_tiff_Zeiss_SEM_1k.tif"


def czi_copy(samples: Path, folder: Path, n: int, name: str | None = None) -> Path:
    """A distinct CZI file: the sample with one more trailing byte."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"cells{n}.czi")
    path.write_bytes((samples / CZI).read_bytes() + bytes([n]))
    return path


def copy_samples(samples: Path, folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(samples / n, folder)) for n in names]


def upload(
    conn: om.Connection, history: History, *paths: Path, expect: Status = Status.UPLOADED
) -> ImportQueue:
    """Import through the real queue into ``history``; every file must end as ``expect``."""
    queue = ImportQueue(scan_paths(list(paths), Config()), [("Sample", "S1")], history=history)
    list(queue.run(conn))
    assert [e.status for e in queue.entries] == [expect] * len(queue.entries), [
        e.message for e in queue.entries
    ]
    return queue


def put_image(conn: om.Connection, folder: Path, name: str, project: str, dataset: str) -> int:
    """Import a small file straight through the adapter; return its image id."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(name.encode() * 1000)
    dataset_id = om.get_or_create_dataset(conn, om.get_or_create_project(conn, project), dataset)
    *_, done = om.import_file(conn, [path], dataset_id)
    assert isinstance(done, om.Imported)
    [image_id] = done.image_ids
    return image_id
