"""One file, one failure in the queue; files changing mid-upload; cache clean-up; names."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cci_uploader import cache
from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.formats import emd
from cci_uploader.hashing import file_sha1
from cci_uploader.logsetup import log_file
from cci_uploader.names import MAX_NAME
from cci_uploader.pipeline import EntryChanged, ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History
from tests.robustness import hostile

CZI = "czi/tiles_z.czi"
EMD = "emd/fei_example_tem_stack.emd"


def _stage(samples: Path, folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(samples / n, folder / Path(n).name)) for n in names]


def _queue(paths: list[Path], tmp_path: Path, **kwargs: object) -> ImportQueue:
    history = History(tmp_path / "history.sqlite")
    return ImportQueue(
        plan(scan_paths(paths, Config()), Config(), [("Sample", "S1")]), history=history, **kwargs
    )  # type: ignore[arg-type]


# -- one file, one failure ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            RecursionError("maximum recursion depth exceeded"),
            "Its contents are nested too deeply to follow (probably damaged)",
        ),
        (MemoryError(), "It needs more memory than this computer has (probably damaged)"),
        (
            ZeroDivisionError("division by zero"),
            "An unexpected error (ZeroDivisionError)",
        ),
    ],
    ids=["recursion", "memory", "other"],
)
def test_reader_failing_unexpectedly_reddens_only_its_file(
    error: BaseException,
    cause: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    conn: om.Connection,
    sandbox: SandboxServer,
) -> None:
    folder = tmp_path / "session"
    _stage(samples, folder, CZI, EMD)

    def broken(path: Path, *args: object) -> object:
        raise error

    # Fault injection: the reader is the faulty part, the boundary is under test.
    with monkeypatch.context() as patch:
        patch.setattr(emd, "FORMAT", dataclasses.replace(emd.FORMAT, read_metadata=broken))
        entries = {e.path.name: e for e in scan_paths([folder], Config())}
    assert entries["tiles_z.czi"].ok
    log = log_file()
    assert entries["fei_example_tem_stack.emd"].reason == (
        f"{cause}: fei_example_tem_stack.emd could not be read. Details are in the log file: {log}"
    )

    monkeypatch.setattr(emd, "FORMAT", dataclasses.replace(emd.FORMAT, convert=broken))
    queue = _queue([folder], tmp_path)
    list(queue.run(conn))
    got = {
        f.path.name: (s.status, s.message) for f, s in zip(queue.files, queue.states, strict=True)
    }
    assert got["fei_example_tem_stack.emd"] == (
        Status.ERROR,
        f"{cause}: fei_example_tem_stack.emd could not be converted. "
        f"Details are in the log file: {log}",
    )
    assert got["tiles_z.czi"][0] is Status.UPLOADED
    assert len(sandbox.objects("Image")) == 1


# -- a file that changes while it is uploaded is never green ---------------------------------


def _truncate(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _append(path: Path) -> None:
    with path.open("ab") as fh:
        fh.write(b"\0" * 100_000)


def _replace_same_size(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1000:] = bytes(1000)
    time.sleep(0.01)  # a new modification time, even on coarse clocks
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "change", [_truncate, _append, _replace_same_size], ids=["truncated", "appended", "replaced"]
)
def test_file_changing_during_upload_is_never_green(
    change: Callable[[Path], None],
    samples: Path,
    tmp_path: Path,
    conn: om.Connection,
    sandbox: SandboxServer,
) -> None:
    [path] = _stage(samples, tmp_path / "in", CZI)
    queue = _queue([path], tmp_path, chunk_size=64 * 1024)
    changed = False
    for event in queue.run(conn):
        if not changed and isinstance(event, EntryChanged) and event.state.message == "uploading":
            change(path)
            changed = True
    [entry] = queue.states
    assert changed
    assert (entry.status, entry.message) == (
        Status.ERROR,
        "tiles_z.czi changed while it was being uploaded, so nothing was imported. "
        "Wait until the microscope has finished writing it, then press Retry.",
    )
    assert sandbox.objects("Image") == []
    assert History(tmp_path / "history.sqlite").uploads() == []
    # Once the file is still, a retry uploads it as it is now.
    assert [e.index for e in queue.retry_failed()] == [0]
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.UPLOADED, entry.message
    [record] = History(tmp_path / "history.sqlite").uploads()
    assert [s.size for s in record.sources] == [path.stat().st_size]


# -- interrupted work leaves nothing behind -----------------------------------------------

_HOLDER = """
import sys, time
from pathlib import Path
from cci_uploader import cache
lease = cache.Lease(Path(sys.argv[1]))
(lease.path / ".a1b2c3d4.part").write_bytes(bytes(1_000_000))
print(lease.path, flush=True)
time.sleep(600)
"""


def test_a_killed_queues_cache_folder_is_swept_and_a_live_one_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "converted"
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        held = Path(child.stdout.readline().strip())
        assert cache.sweep(root) == 0  # a running process owns it
        assert held.is_dir()
    finally:
        child.kill()  # SIGKILL: no clean-up code runs
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    assert cache.sweep(root) == 1_000_000
    assert list(root.iterdir()) == []


def test_queue_start_sweeps_what_an_interrupted_run_left(
    samples: Path, tmp_path: Path, conn: om.Connection, _isolated_dirs: Path
) -> None:
    root = _isolated_dirs / "cache" / "cci-uploader" / "converted"
    old = root / "entry-k3x9q1"  # the layout of earlier versions, with no lock file
    old.mkdir(parents=True)
    (old / ".Atlas_1.ome.tif.1234abcd.part").write_bytes(bytes(4096))
    stale = time.time() - 3600
    os.utime(old, (stale, stale))
    (root / "stray.ome.tif").write_bytes(bytes(10))
    (root / "notes.txt").write_text("not the app's")  # never deleted: the app did not write it
    [path] = _stage(samples, tmp_path / "in", EMD)
    queue = _queue([path], tmp_path)
    list(queue.run(conn))
    assert queue.states[0].status is Status.UPLOADED, queue.states[0].message
    assert list(root.iterdir()) == [root / "notes.txt"]


def test_conversion_beyond_the_cache_cap_names_the_cache_folder(
    samples: Path, tmp_path: Path, conn: om.Connection, _isolated_dirs: Path
) -> None:
    root = _isolated_dirs / "cache" / "cci-uploader" / "converted"
    paths = _stage(samples, tmp_path / "in", EMD, CZI)
    queue = _queue(paths, tmp_path)
    queue.cache_cap = 100_000
    list(queue.run(conn))
    got = {
        f.path.name: (s.status, s.message) for f, s in zip(queue.files, queue.states, strict=True)
    }
    assert got["fei_example_tem_stack.emd"] == (
        Status.ERROR,
        f"The cache folder {root} may hold 0 MB; converting this file needs about 0 MB more "
        "beside the 0 MB other uploads use now. Let them finish, then press Retry.",
    )
    assert got["tiles_z.czi"][0] is Status.UPLOADED  # uploaded as-is: no cache needed


def test_full_disk_message_names_the_cache_folder(tmp_path: Path) -> None:
    with pytest.raises(OSError) as caught, open("/dev/full", "wb", buffering=0) as full:
        full.write(b"x")  # the kernel's own "No space left on device"
    assert caught.value.errno == errno.ENOSPC
    assert cache.full_message(tmp_path, caught.value) == (
        f"The cache folder {tmp_path} is full (the disk has no space left). Free space on "
        "that disk, then press Retry."
    )


def test_long_file_name_converts_and_uploads(
    samples: Path, tmp_path: Path, conn: om.Connection, sandbox: SandboxServer
) -> None:
    name = "a" * 242 + ".emd"
    folder = tmp_path / "in"
    folder.mkdir()
    path = Path(shutil.copyfile(samples / EMD, folder / name))
    queue = _queue([path], tmp_path)
    list(queue.run(conn))
    assert queue.states[0].status is Status.UPLOADED, queue.states[0].message
    [image] = sandbox.objects("Image")
    assert image.getName().getValue() == "a" * 242 + ".ome.tif"


# -- names from files are data ---------------------------------------------------------------


def test_hostile_microscope_name_is_cleaned_and_the_row_says_so(
    tmp_path: Path, conn: om.Connection, sandbox: SandboxServer
) -> None:
    folder = tmp_path / "run\u202e\x1b[31m"
    folder.mkdir()
    path = hostile.epu_hostile_name(folder)
    [entry] = plan(scan_paths([folder], Config()), Config())
    assert entry.ok, entry.scan.reason
    expected = ("Titan Krios " + "K" * MAX_NAME)[:MAX_NAME]
    assert entry.project == expected
    queue = _queue([folder], tmp_path)
    list(queue.run(conn))
    [done] = queue.states
    assert done.status is Status.UPLOADED, done.message
    assert done.message == (
        f"uploaded to {expected} / {entry.dataset} (the microscope name in the file was "
        f"cleaned of control characters and shortened to {MAX_NAME} characters; the value "
        "of 'Folder' was cleaned of control characters)"
    )
    [project] = sandbox.objects("Project")
    assert project.getName().getValue() == expected
    [annotation] = [
        a for a in sandbox.objects("MapAnnotation") if a.getNs().getValue() == om.CLIENT_NS
    ]
    assert [(nv.name, nv.value) for nv in annotation.getMapValue()] == [
        ("Sample", "S1"),
        ("Folder", "run[31m"),
    ]
    assert path.exists()


def test_history_records_what_the_server_verified_not_a_later_change(
    samples: Path, tmp_path: Path, conn: om.Connection
) -> None:
    [path] = _stage(samples, tmp_path / "in", CZI)
    size, sha1 = path.stat().st_size, file_sha1(path)
    queue = _queue([path], tmp_path)
    # Events with every byte sent: the last chunk's, then the server's (after verifyUpload).
    sent_all = 0
    changed = False
    for event in queue.run(conn):
        entry = event.state if isinstance(event, EntryChanged) else None
        if entry and entry.status is Status.UPLOADING and entry.done_bytes == size:
            sent_all += 1
            if sent_all == 2:
                _append(path)  # the server already holds the bytes it checked
                changed = True
    assert changed
    assert queue.states[0].status is Status.UPLOADED, queue.states[0].message
    [record] = History(tmp_path / "history.sqlite").uploads()
    assert [(s.size, s.sha1) for s in record.sources] == [(size, sha1)]
    assert [(s.size, s.sha1) for s in record.stored] == [(size, sha1)]
