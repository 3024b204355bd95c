"""Scanning again reads only files that changed: metadata cached by path, size and mtime."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cci_uploader import formats
from cci_uploader.config import Config
from cci_uploader.formats.registry import BUILTIN_MODULES
from cci_uploader.scan import scan, scan_paths
from cci_uploader.scan_cache import cache_path

EMI = "64x64_TEM_images_acquire.emi"
SER = "64x64_TEM_images_acquire_1.ser"


def _count_reads(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Names of the files the format ``name`` reads from now on."""
    reads: list[str] = []

    def counting(original: Callable[[Path], Any], path: Path) -> Any:
        reads.append(path.name)
        return original(path)

    _wrap_reader(monkeypatch, name, counting)
    return reads


def _wrap_reader(
    monkeypatch: pytest.MonkeyPatch, name: str, reader: Callable[[Callable[[Path], Any], Path], Any]
) -> None:
    """Make the format ``name`` read metadata through ``reader(original, path)`` (the registry
    reads each built-in module's ``FORMAT``, so swapping it swaps the format)."""
    descriptor = formats.get_format(name)
    modules = (importlib.import_module(f"cci_uploader.formats.{m}") for m in BUILTIN_MODULES)
    module = next(m for m in modules if m.FORMAT.name == name)
    original = descriptor.read_metadata
    swapped = dataclasses.replace(descriptor, read_metadata=lambda path: reader(original, path))
    monkeypatch.setattr(module, "FORMAT", swapped)


@pytest.fixture
def folder(samples: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(samples / "czi" / "tiles_z.czi", data / "a.czi")
    shutil.copy(samples / "czi" / "RGB-8bit.czi", data / "b.czi")
    shutil.copy(samples / "sem_tif" / "sample6_001.tif", data / "s.tif")
    pair = data / "tem"
    pair.mkdir()
    for name in (EMI, SER):
        shutil.copy(samples / "tia" / name, pair / name)
    return data


def _touch(path: Path, seconds: int = 1) -> None:
    """Move the modification time on, the size unchanged."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_second_scan_reads_nothing_and_finds_the_same(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = scan([folder], Config())
    assert cache_path().is_file()
    reads = {n: _count_reads(monkeypatch, n) for n in ("czi", "sem_tif", "emi_ser")}
    second = scan([folder], Config())
    assert reads == {"czi": [], "sem_tif": [], "emi_ser": []}
    assert second == first
    assert [e.path.name for e in second.entries] == ["a.czi", "b.czi", "s.tif", EMI]
    assert all(e.ok for e in second.entries)
    assert [p.name for p in second.entries[3].companions] == [SER]


def test_a_changed_file_is_read_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan_paths([folder], Config())
    reads = _count_reads(monkeypatch, "czi")
    changed = folder / "a.czi"
    with changed.open("ab") as fh:
        fh.write(b"\0")
    scan_paths([folder], Config())
    assert reads == ["a.czi"]
    _touch(changed)  # same size, later modification time
    scan_paths([folder], Config())
    assert reads == ["a.czi", "a.czi"]
    scan_paths([folder], Config())
    assert reads == ["a.czi", "a.czi"]  # remembered again


def test_a_file_replaced_by_another_is_read_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan_paths([folder], Config())
    reads = _count_reads(monkeypatch, "czi")
    a, b = folder / "a.czi", folder / "b.czi"
    st = a.stat()
    a.unlink()
    b.rename(a)  # another file under a's name, given a's times
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    [entry] = [e for e in scan_paths([folder], Config()) if e.path.name == "a.czi"]
    assert reads == ["a.czi"]
    assert entry.metadata == formats.get_format("czi").read_metadata(a)


def test_a_changed_companion_means_reading_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan_paths([folder], Config())
    reads = _count_reads(monkeypatch, "emi_ser")
    _touch(folder / "tem" / SER)
    scan_paths([folder], Config())
    assert reads == [EMI]


def test_a_new_file_beside_a_pair_means_reading_the_pair_again(
    folder: Path, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second .ser may join the .emi: companions are found by name in the folder."""
    scan_paths([folder], Config())
    reads = _count_reads(monkeypatch, "emi_ser")
    czi_reads = _count_reads(monkeypatch, "czi")
    shutil.copy(samples / "tia" / SER, folder / "tem" / "64x64_TEM_images_acquire_2.ser")
    scan_paths([folder], Config())
    assert reads == [EMI]
    assert czi_reads == []  # the CZI files' folder did not change


def test_a_damaged_cache_only_means_reading_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = scan_paths([folder], Config())
    cache_path().write_text('{"version": "1", "entries": {"x": 5', encoding="utf-8")
    reads = _count_reads(monkeypatch, "czi")
    assert scan_paths([folder], Config()) == first
    assert sorted(reads) == ["a.czi", "b.czi"]


def test_entries_of_another_shape_are_not_trusted(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = scan_paths([folder], Config())
    data = json.loads(cache_path().read_text(encoding="utf-8"))
    [a] = [v for k, v in data["entries"].items() if k.endswith("a.czi")]
    [b] = [v for k, v in data["entries"].items() if k.endswith("b.czi")]
    a["meta"]["images"] = "many"
    b["meta"]["extra"] = {"key": ["not", "text"]}
    cache_path().write_text(json.dumps(data), encoding="utf-8")
    reads = _count_reads(monkeypatch, "czi")
    assert scan_paths([folder], Config()) == first
    assert sorted(reads) == ["a.czi", "b.czi"]


def test_a_file_that_cannot_be_read_is_not_remembered(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    bad = data / "broken.czi"
    bad.write_bytes(b"ZISRAWFILE" + b"\0" * 100)
    [entry] = scan_paths([data], Config())
    assert not entry.ok
    assert scan_paths([data], Config()) == [entry]
    if cache_path().exists():
        assert "broken.czi" not in cache_path().read_text(encoding="utf-8")


def test_metadata_that_would_not_come_back_the_same_is_not_remembered(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []

    def odd(original: Callable[[Path], Any], path: Path) -> Any:
        reads.append(path.name)
        meta = original(path)
        return dataclasses.replace(meta, extra={**meta.extra, "count": 3, "when": frozenset({"x"})})

    _wrap_reader(monkeypatch, "czi", odd)
    first = scan_paths([folder], Config())
    assert all(e.ok for e in first)
    assert scan_paths([folder], Config()) == first
    assert sorted(reads) == ["a.czi", "a.czi", "b.czi", "b.czi"]
