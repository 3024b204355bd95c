"""Helpers to put data on the stand-in and in the history."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SERVICE_ACCOUNT
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.standin import Clock as Clock

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
    queue = ImportQueue(
        plan(scan_paths(list(paths), Config()), Config(), [("Sample", "S1")]), history=history
    )
    list(queue.run(conn))
    assert [e.status for e in queue.states] == [expect] * len(queue.states), [
        e.message for e in queue.states
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


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def facility_config(path: Path, server: str, **cleanup: object) -> Path:
    """A facility config naming the server and the clean-up account."""
    lines = [f'[omero]\nserver = "{server}"\n[cleanup]\naccount = "{SERVICE_ACCOUNT}"']
    for key, value in cleanup.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path


def report_sections(folder: Path) -> tuple[str, dict[str, set[Path]]]:
    """The newest report: its mode line and the paths under each heading."""
    [*_, newest] = sorted(folder.glob("cleanup-*.txt"), key=lambda p: p.stat().st_mtime_ns)
    sections: dict[str, set[Path]] = {}
    mode, current = "", ""
    for line in newest.read_text(encoding="utf-8").splitlines():
        if line.startswith("mode: "):
            mode = line[6:]
        elif line.endswith(":") or " files):" in line:
            current = line.split(" (")[0]
            sections[current] = set()
        elif line.startswith("  ") and current:
            sections[current].add(Path(line.strip().split("\t")[0]))
    return mode, sections


def report_reasons(folder: Path) -> dict[str, str]:
    [*_, newest] = sorted(folder.glob("cleanup-*.txt"), key=lambda p: p.stat().st_mtime_ns)
    text = newest.read_text(encoding="utf-8")
    return dict(line.strip().split("\t") for line in text.splitlines() if "\t" in line)


def age(*paths: Path, days: int = 40) -> None:
    old = (dt.datetime.now() - dt.timedelta(days=days)).timestamp()
    for path in paths:
        os.utime(path, (old, old), follow_symlinks=False)
