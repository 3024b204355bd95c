"""``cci-uploader sandbox``, ``demo`` and ``scan`` from the command line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.omero.password_login import login
from cci_uploader.sandbox import DEMO_TOKEN, SERVICE_ACCOUNT, SERVICE_PASSWORD
from cci_uploader.stewardship.history import history_path

SCAN_KEYS = {
    "path",
    "format",
    "companions",
    "microscope",
    "microscope_raw",
    "acquired",
    "date",
    "pixel_size_um",
    "images",
    "reason",
}


def test_sandbox_command_serves_until_stopped() -> None:
    exe = Path(sys.executable).with_name("cci-uploader")
    with subprocess.Popen(
        [str(exe), "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        try:
            lines = [proc.stdout.readline() for _ in range(7)]
            assert lines[0].startswith("Training sandbox: nothing leaves this computer")
            address = lines[1].removeprefix("server: ").strip()
            assert lines[2].strip() == f"demo token: {DEMO_TOKEN}"
            assert any(
                line.startswith(
                    f"clean-up account: {SERVICE_ACCOUNT}, password {SERVICE_PASSWORD} "
                )
                for line in lines
            ), lines
        except BaseException:
            proc.terminate()  # else leaving the with-block waits for it forever
            raise
        try:
            conn = om.connect(address, DEMO_TOKEN)
            assert conn.user_name == "demo" and conn.is_sandbox
            conn.close()
            # The printed credentials log in, and the server says it is the sandbox.
            service = login(address, SERVICE_ACCOUNT, SERVICE_PASSWORD)
            assert service.is_sandbox
            service.close()
        finally:
            proc.terminate()


def test_demo_imports_into_a_fresh_sandbox(
    samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", str(samples / "czi" / "tiles_z.czi")]) == 0
    out = capsys.readouterr().out
    assert "Training sandbox" in out
    assert "[ uploaded] tiles_z.czi: uploaded to LSM 880 IndiMo, AxioObserver / 2020-12-15" in out
    assert not history_path().exists()  # the demo's uploads are not the user's


def test_demo_without_paths_imports_files_it_writes_with_no_sample_folder_anywhere(
    tmp_path: Path,
) -> None:
    # The package alone, as an installed app has it: no ../shared next to the code.
    import cci_uploader

    site = tmp_path / "site"
    shutil.copytree(
        Path(cci_uploader.__file__).parent,
        site / "cci_uploader",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    code = (
        "import sys, cci_uploader; from cci_uploader.cli import main; "
        "print('package:', cci_uploader.__file__, flush=True); sys.exit(main(['demo']))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"package: {site / 'cci_uploader' / '__init__.py'}"
    uploaded = sorted(line for line in lines if line.startswith("[ uploaded]"))
    # The CZI carries no date: it is filed under the day the demo wrote it.
    uploaded[1] = re.sub(r"\d{4}-\d{2}-\d{2}$", "<today>", uploaded[1])
    assert uploaded == [
        "[ uploaded] demo-sem.tif: uploaded to Demo scope / 2024-03-01",
        "[ uploaded] demo.czi: uploaded to Unknown microscope / <today>",
        "[ uploaded] demo.emd: uploaded to Demo scope 1 / 2024-03-01",
        "[ uploaded] demo.emi: uploaded to Demo scope / 2024-03-01",
        "[ uploaded] demo.mrc: uploaded to Demo scope / 2024-03-01",
    ]
    # The files were written for this run only and are gone with the sandbox.
    command = next(line for line in lines if line.startswith("cci-uploader import "))
    written = Path(command.split()[2])
    assert written.name.startswith("cci-demo-")
    assert not written.exists()
    assert not history_path().exists()


def test_scan_json_follows_the_shared_schema(
    stockholm: str, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(samples), "--json"]) == 0
    *records, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(set(r) >= SCAN_KEYS for r in records)
    assert summary["added"] == len(records)
    by_name = {Path(r["path"]).name: r for r in records}
    # Companions are paired, not listed on their own.
    assert "128x128_TEM_acquire-sum1_1.ser" not in by_name
    assert "Atlas_1.xml" not in by_name
    tia = by_name["128x128_TEM_acquire-sum1.emi"]
    assert tia["format"] == "emi_ser"
    assert [Path(c).name for c in tia["companions"]] == ["128x128_TEM_acquire-sum1_1.ser"]
    czi = by_name["CD_s_1_t_3_c_2_z_5.czi"]
    assert (czi["microscope"], czi["date"], czi["reason"]) == ("Castor.Stand", "2016-02-12", None)
    assert czi["acquired"] == "2016-02-12T09:41:02.491560+00:00"
    assert czi["pixel_size_um"] == pytest.approx([0.0905766741522103, 0.0905766741522103])
    assert {r["format"] for r in records} == {
        "czi",
        "emd",
        "emi_ser",
        "fibics",
        "mrc_xml",
        "sem_tif",
    }


def test_scan_refuses_a_single_unsupported_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert main(["scan", str(notes), "--json"]) == 0
    record, _summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["format"] == "unsupported"
    assert "not a supported microscope file" in record["reason"]


def test_lone_ser_is_an_error_with_its_reason(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ser = tmp_path / "64x64_TEM_images_acquire_1.ser"
    ser.write_bytes((samples / "tia" / ser.name).read_bytes())
    assert main(["scan", str(tmp_path), "--json"]) == 0
    record, _summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["format"] == "emi_ser"
    assert ".emi file is missing" in record["reason"]
