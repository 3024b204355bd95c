"""The stand-in can take as long to import as a real server: per fileset plus per byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.state import ImportTime


def _dataset(conn: om.Connection) -> int:
    return om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "2024-01-02")


def test_import_time_is_a_fixed_cost_plus_a_rate() -> None:
    assert ImportTime().seconds(10**9) == 0.0
    assert ImportTime(2.0, 1e-6).seconds(1_000_000) == pytest.approx(3.0)


def test_default_imports_at_once(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "a.czi"
    path.write_bytes(b"a" * 1000)
    events = list(om.import_file(conn, [path], _dataset(conn), timeout_s=30))
    assert isinstance(events[-1], om.Imported)


def test_big_files_take_longer_than_small_ones(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    # 60 s per MB: a byte is instant, a megabyte outlasts the client's wait.
    sandbox.state.import_time = ImportTime(per_byte_s=60e-6)
    small, big = tmp_path / "small.czi", tmp_path / "big.czi"
    small.write_bytes(b"s")
    big.write_bytes(b"b" * 1_000_000)
    events = list(om.import_file(conn, [small], _dataset(conn), timeout_s=30))
    assert isinstance(events[-1], om.Imported)
    with pytest.raises(om.ImportStillRunning):
        list(om.import_file(conn, [big], _dataset(conn), timeout_s=0.5, poll_s=0.05))
    assert [i.getName().getValue() for i in sandbox.objects("Image")] == ["small.czi"]


def test_fixed_cost_applies_to_every_fileset(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.state.import_time = ImportTime(per_fileset_s=60.0)
    path = tmp_path / "tiny.czi"
    path.write_bytes(b"t")
    with pytest.raises(om.ImportStillRunning):
        list(om.import_file(conn, [path], _dataset(conn), timeout_s=0.5, poll_s=0.05))
    assert sandbox.objects("Image") == []
