"""A big first scan reads files in worker processes, with what the scan's own reading gives."""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import shutil
import time
from pathlib import Path

import pytest

from cci_uploader import formats, scan_pool
from cci_uploader.config import Config
from cci_uploader.formats.base import FileMetadata, FormatDescriptor, FormatError
from cci_uploader.formats.registry import BUILTIN_MODULES
from cci_uploader.scan import scan, scan_batches
from cci_uploader.scan_pool import WORKERS_ENV, ReadAhead, worker_count
from tests.conftest import SAMPLES


def _folder(root: Path, copies: int) -> Path:
    """``copies`` copies of every shared sample, and one damaged file of each kind, per copy."""
    for index in range(copies):
        run = root / f"run{index:02d}"
        for kind in SAMPLES.iterdir():
            if kind.is_dir():
                shutil.copytree(kind, run / kind.name)
        (run / "broken.czi").write_bytes(b"ZISRAWFILE" + bytes(300))
        (run / "cut.emd").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
        (run / "notes.txt").write_text("not microscopy data")
    return root


def _outcome(path: Path, fmt: FormatDescriptor) -> FileMetadata | str:
    try:
        return fmt.read_metadata(path)
    except FormatError as exc:
        return f"FormatError: {exc}"


def _read_all(ahead: ReadAhead, files: list[tuple[Path, FormatDescriptor]]) -> list[object]:
    results: list[object] = []
    for path, fmt in files:
        try:
            results.append(ahead.read(path, fmt)[0])
        except FormatError as exc:
            results.append(f"FormatError: {exc}")
    return results


def _files(folder: Path) -> list[tuple[Path, FormatDescriptor]]:
    return [(p, f) for p in sorted(folder.rglob("*")) if (f := formats.detect(p)) is not None]


def test_a_worker_reads_every_file_as_the_scan_would(tmp_path: Path) -> None:
    files = _files(_folder(tmp_path / "data", 1))
    assert {f.name for _, f in files} >= {"czi", "emd", "emi_ser", "mrc_xml", "sem_tif", "fibics"}
    ahead = ReadAhead(files, workers=1, min_files=1, share=False)
    try:
        results = _read_all(ahead, files)
    finally:
        ahead.close()
    assert ahead.from_workers == sum(1 for r in results if isinstance(r, FileMetadata))
    assert results == [_outcome(p, f) for p, f in files]
    refused = [r for r in results if isinstance(r, str)]
    assert any("broken.czi" in r for r in refused)
    assert any("cut.emd" in r for r in refused)


def test_a_big_scan_with_workers_finds_what_one_without_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_pool, "MIN_FILES", 20)  # a big folder, in small
    folder = _folder(tmp_path / "data", 3)
    assert len(_files(folder)) >= scan_pool.MIN_FILES
    with_workers = scan([folder], Config(), workers=1)
    shutil.rmtree(tmp_path / "app-home" / "cache")  # read everything again
    alone = scan([folder], Config(), workers=0)
    assert with_workers == alone
    assert len(with_workers.entries) > scan_pool.MIN_FILES
    assert with_workers.ignored


def _dies_in_a_worker(path: Path) -> FileMetadata:
    """The SmartSEM reader, except that it kills the worker process it runs in."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    from cci_uploader.formats import sem_tif

    return sem_tif.read_metadata(path)


def _sem_module() -> object:
    modules = (importlib.import_module(f"cci_uploader.formats.{m}") for m in BUILTIN_MODULES)
    return next(m for m in modules if m.FORMAT.name == "sem_tif")


def test_a_worker_that_dies_costs_nothing_but_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _sem_module()
    swapped = dataclasses.replace(module.FORMAT, read_metadata=_dies_in_a_worker)  # type: ignore[attr-defined]
    monkeypatch.setattr(module, "FORMAT", swapped)
    files = _files(_folder(tmp_path / "data", 1))
    assert any(f.name == "sem_tif" for _, f in files)
    ahead = ReadAhead(files, workers=1, min_files=1, share=False)
    try:
        results = _read_all(ahead, files)
    finally:
        ahead.close()
    assert results == [_outcome(p, f) for p, f in files]
    assert ahead.from_workers < len(files)


def test_a_reader_no_worker_can_find_is_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _sem_module()
    reads: list[str] = []
    original = module.FORMAT.read_metadata  # type: ignore[attr-defined]

    def counting(path: Path) -> FileMetadata:
        reads.append(path.name)
        meta: FileMetadata = original(path)
        return meta

    swapped = dataclasses.replace(module.FORMAT, read_metadata=counting)  # type: ignore[attr-defined]
    monkeypatch.setattr(module, "FORMAT", swapped)
    files = [(p, f) for p, f in _files(_folder(tmp_path / "data", 1)) if f.name == "sem_tif"]
    ahead = ReadAhead(files, workers=1, min_files=1, share=False)
    try:
        results = _read_all(ahead, files)
    finally:
        ahead.close()
    assert ahead.from_workers == 0
    assert sorted(reads) == sorted(p.name for p, _ in files)
    assert all(isinstance(r, FileMetadata) for r in results)


def test_a_scan_stopped_early_stops_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_pool, "MIN_FILES", 20)
    folder = _folder(tmp_path / "data", 3)
    batches = scan_batches([folder], Config(), batch=5, workers=1)
    assert next(batches).entries
    assert multiprocessing.active_children()
    batches.close()
    deadline = time.monotonic() + 60
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()


@pytest.mark.parametrize(("given", "expected"), [("0", 0), ("3", 3), ("99", 4), ("-1", 0)])
def test_the_environment_sets_how_many_workers(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: int
) -> None:
    monkeypatch.setenv(WORKERS_ENV, given)
    assert worker_count() == expected


def test_by_default_one_worker_per_core_but_the_scans_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1, 2, 3}, raising=False)
    assert worker_count() == 3
