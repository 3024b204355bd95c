"""``cci-uploader import`` end to end against the stand-in, over real Ice."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cci_uploader import omero as om
from cci_uploader.cli import importing, main
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.pipeline import queue as pipeline_queue
from cci_uploader.plan import plan
from cci_uploader.progress import human_bytes
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from tests.netcut import NetCut

# Project and local Dataset for each sample in Europe/Stockholm, read by hand from
# each file's XML: Microscope UserDefinedName / Name / System, and
# Image/AcquisitionDateAndTime, else Document/CreationDate.
CZI_TARGETS = {
    # Name="Castor.Stand"; 2016-02-12T09:41:02Z
    "CD_s_1_t_3_c_2_z_5.czi": ("Castor.Stand", "2016-02-12"),
    # no Microscope element; created 2019-12-06T16:56:03-08:00 = 01:56 on the 7th here
    "RGB-8bit.czi": ("Unknown microscope", "2019-12-07"),
    # System "LSM 880, AxioObserver"; created 2023-03-22T10:58:51 (local, no offset)
    "czitools_LSM880_AiryScan.czi": ("LSM 880, AxioObserver", "2023-03-22"),
    # UserDefinedName "Castor Simulation WF+LSM900"; 2023-01-06T10:41:51Z
    "czitools_WellD6_S1.czi": ("Castor Simulation WF+LSM900", "2023-01-06"),
    # System "LSM 880 IndiMo, AxioObserver"; created 2020-12-15T10:25:00
    "tiles_z.czi": ("LSM 880 IndiMo, AxioObserver", "2020-12-15"),
}


def _run(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> tuple[int, list[dict[str, Any]], str]:
    code = main(argv)
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    return code, records, err


def _import_argv(sandbox: SandboxServer, *paths: Path, group: str = "Sandbox Lab") -> list[str]:
    return [
        "import",
        *map(str, paths),
        "--server",
        sandbox.address,
        "--group",
        group,
        "--kv",
        "Sample=Mouse 7",
        "--kv",
        "Operator=kim",
        "--json",
    ]


def _name(obj: Any) -> str:
    return str(obj.getName().getValue())


def test_czi_samples_end_to_end_then_all_duplicates(
    stockholm: str,
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    code, records, _ = _run(capsys, _import_argv(sandbox, samples / "czi"))
    assert code == 0
    assert {Path(r["path"]).name for r in records} == set(CZI_TARGETS)
    for record in records:
        project, dataset = CZI_TARGETS[Path(record["path"]).name]
        assert record["status"] == "uploaded", record
        assert (record["project"], record["dataset"]) == (project, dataset)
        [image_id] = record["image_ids"]
        assert sandbox.location(image_id) == (project, dataset)
        children = [
            link.getChild()
            for link in sandbox.objects("ImageAnnotationLink")
            if link.getParent().getId().getValue() == image_id
        ]
        [kv] = [
            c
            for c in children
            if type(c).__name__ == "MapAnnotationI" and c.getNs().getValue() == om.CLIENT_NS
        ]
        assert kv.getNs().getValue() == om.CLIENT_NS
        assert [(nv.name, nv.value) for nv in kv.getMapValue()] == [
            ("Sample", "Mouse 7"),
            ("Operator", "kim"),
            ("Folder", "czi"),
        ]
        tags = {
            sandbox.state.get("TagAnnotation", c.getId().getValue()).getTextValue().getValue()
            for c in children
            if type(c).__name__ == "TagAnnotationI"
        }
        assert tags == {"Sample: Mouse 7", "Operator: kim", "Folder: czi"}
    projects = sorted(_name(p) for p in sandbox.objects("Project"))
    assert projects == sorted({p for p, _ in CZI_TARGETS.values()})

    before = {kind: len(sandbox.objects(kind)) for kind in sandbox.state.objects}
    code, again, _ = _run(capsys, _import_argv(sandbox, samples / "czi"))
    assert code == 0
    assert [r["status"] for r in again] == ["duplicate"] * len(CZI_TARGETS)
    first_ids = {r["path"]: r["image_ids"] for r in records}
    assert all(r["image_ids"] == first_ids[r["path"]] for r in again)
    after = {kind: len(sandbox.objects(kind)) for kind in sandbox.state.objects}
    assert after == before


def test_wrong_token_is_a_clear_error(
    sandbox: SandboxServer,
    samples: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CCI_OMERO_TOKEN", "not-a-real-token")
    code, records, err = _run(capsys, _import_argv(sandbox, samples / "czi" / "tiles_z.czi"))
    assert code == 1
    assert records == []
    assert "did not accept the token" in err
    assert "Traceback" not in err


def test_group_the_user_is_not_in_is_a_clear_error(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    code, _, err = _run(
        capsys, _import_argv(sandbox, samples / "czi" / "tiles_z.czi", group="Other Lab")
    )
    assert code == 1
    assert "not a member of the OMERO group 'Other Lab'" in err
    assert "Traceback" not in err
    assert sandbox.objects("Image") == []


def test_unsupported_single_file_is_skipped_with_reason(
    sandbox: SandboxServer,
    token: str,
    tmp_path: Path,
    samples: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notes = tmp_path / "notes.docx"
    notes.write_bytes(b"PK\x03\x04 not microscopy")
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    code, records, _ = _run(capsys, _import_argv(sandbox, notes, samples / "czi" / "tiles_z.czi"))
    assert code == 1
    assert [r["status"] for r in records] == ["skipped", "uploaded"]
    assert "not a supported microscope file" in records[0]["message"]


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "x.czi", "--server", "h"],  # no --group
        ["import", "x.czi", "--group", "g", "--kv", "novalue"],  # bad pair
        ["import", "/no/such/file.czi", "--group", "g"],  # missing path
        ["import", "x.czi", "--group", "g", "--token", "secret"],  # tokens never as arguments
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.czi").write_bytes(b"")
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_token_from_stdin_and_never_written_anywhere(
    sandbox: SandboxServer, token: str, samples: Path, tmp_path: Path, _isolated_dirs: Path
) -> None:
    """The real console script, token on stdin, debug logging: the token is in no file."""
    env = {**os.environ, "CCI_UPLOADER_LOG_DIR": str(_isolated_dirs / "logs")}
    exe = Path(sys.executable).with_name("cci-uploader")
    result = subprocess.run(
        [str(exe), "-v", *_import_argv(sandbox, samples / "czi" / "tiles_z.czi")],
        input=token + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "uploaded"
    assert token not in result.stdout + result.stderr
    log_file = _isolated_dirs / "logs" / "cci-uploader.log"
    assert "joined an OMERO session" in log_file.read_text()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert log_file in written
    for path in written:
        assert token.encode() not in path.read_bytes(), f"token found in {path}"


def _cut_at_second_file(
    sandbox: SandboxServer, net: NetCut, restore_after_s: float | None
) -> threading.Thread:
    """Unplug the network as the second file starts; plug it back later."""

    def watch() -> None:
        while len(sandbox.objects("Fileset")) < 2:
            time.sleep(0.005)
        net.cut()
        if restore_after_s is not None:
            time.sleep(restore_after_s)
            net.restore()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _three_copies(samples: Path, tmp_path: Path) -> list[Path]:
    data = (samples / "czi" / "tiles_z.czi").read_bytes()
    paths = [tmp_path / f"copy{n}.czi" for n in range(3)]
    for n, path in enumerate(paths):
        path.write_bytes(data + bytes([n]))
    return paths


def test_lost_connection_pauses_once_reconnects_and_finishes(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(importing, "RECONNECT_WAITS_S", (1.0, 1.0, 1.0))
    paths = _three_copies(samples, tmp_path)
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    sandbox.faults.import_delay_s = 0.3
    with NetCut(sandbox.port) as net:
        watcher = _cut_at_second_file(sandbox, net, restore_after_s=0.2)
        argv = _import_argv(sandbox, *paths)
        argv[argv.index("--server") + 1] = net.address
        code, records, err = _run(capsys, argv)
        watcher.join()
    assert code == 0, err
    assert err.count("connection to OMERO was lost while") == 1
    assert "Reconnected" in err
    assert [r["status"] for r in records] == ["uploaded"] * 3
    names = sorted(_name(i) for i in sandbox.objects("Image"))
    assert names == ["copy0.czi", "copy1.czi", "copy2.czi"]


def test_server_gone_for_good_stops_cleanly_saying_what_to_do(
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(importing, "RECONNECT_WAITS_S", (0.05, 0.05))
    # One file at a time, so the first is finished when the second starts; with
    # files in flight the first would end red too (tests/test_overlap.py).
    monkeypatch.setattr(pipeline_queue, "MAX_IMPORTING", 0)
    paths = _three_copies(samples, tmp_path)
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    sandbox.faults.import_delay_s = 0.3
    with NetCut(sandbox.port) as net:
        watcher = _cut_at_second_file(sandbox, net, restore_after_s=None)
        argv = _import_argv(sandbox, *paths)
        argv[argv.index("--server") + 1] = net.address
        code, records, err = _run(capsys, argv)
        watcher.join()
    assert code == 1
    assert err.count("connection to OMERO was lost while") == 1
    assert err.count("Still no answer") == 2
    assert "run the same command again" in err
    statuses = [r["status"] for r in records]
    assert statuses[0] == "uploaded" and statuses[1:] == ["error", "error"]
    assert all("run the same command again" in r["message"] for r in records[1:])
    assert len(sandbox.objects("Image")) == 1


def test_each_step_of_a_file_is_printed_once_including_omero_importing(
    sandbox: SandboxServer,
    samples: Path,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CCI_OMERO_TOKEN", token)
    sandbox.faults.import_delay_s = 0.5  # as a real server, which takes a while to import
    code, _, err = _run(capsys, _import_argv(sandbox, samples / "czi" / "tiles_z.czi"))
    assert code == 0, err
    steps = [line for line in err.splitlines() if "tiles_z.czi: " in line]
    assert len(steps) == len(set(steps)), steps  # no step twice (not once per chunk)
    assert "[uploading] tiles_z.czi: uploading" in steps
    assert "[uploading] tiles_z.czi: OMERO is importing" in steps
    assert steps[-1].startswith("[ uploaded] tiles_z.czi: uploaded to ")


class _Ticks:
    """A clock that moves one second each time it is read: rates without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_human_output_shows_speed_and_time_left_and_json_does_not(
    conn: om.Connection, samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (samples / "czi" / "tiles_z.czi").read_bytes()
    paths = []
    for n in range(2):
        paths.append(tmp_path / f"copy{n}.czi")
        paths[-1].write_bytes(data + bytes([n]))
    files = plan(scan_paths(paths, Config()), Config())
    queue = ImportQueue(files, history=None, chunk_size=64 * 1024)
    importing._run_queue(queue, conn, as_json=False, clock=_Ticks())
    out, err = capsys.readouterr()
    assert err == ""
    progress = [line.strip() for line in out.splitlines() if line.startswith("    File ")]
    moving = [line for line in progress if re.search(r" · [\d.]+ [kMGT]?B/s · ", line)]
    assert moving, out
    assert any(
        re.search(r"File 1 of 2 · .* of .* · .*B/s · \d+ (s|min \d\d s) left$", m) for m in moving
    )
    assert (
        progress[-1] == f"File 2 of 2 · {human_bytes(2 * len(data) + 2)} of "
        f"{human_bytes(2 * len(data) + 2)} · 0 s left"
    )
    assert [s.status for s in queue.states] == [Status.UPLOADED, Status.UPLOADED]

    again = ImportQueue(plan(scan_paths(paths, Config()), Config()), history=None)
    importing._run_queue(again, conn, as_json=True, clock=_Ticks())
    out, err = capsys.readouterr()
    assert out == ""  # --json: the records are printed after the run, nothing else on stdout
    assert "[duplicate] copy0.czi" in err
    assert " left" not in err and "/s" not in err
