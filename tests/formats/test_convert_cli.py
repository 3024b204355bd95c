"""``cci-uploader convert``: statuses, outputs, folder walking and --json lines."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cci_uploader.cli.convert import convert_paths, main

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
EMD = SAMPLES / "emd/fei_example_tem_stack.emd"
EMI = SAMPLES / "tia/64x64_TEM_images_acquire.emi"
SER = SAMPLES / "tia/64x64_TEM_images_acquire_1.ser"
CZI = SAMPLES / "czi/RGB-8bit.czi"


def _run_json(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, list[dict[str, object]]]:
    code = main(["convert", *argv, "--json"])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


def test_single_files_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, rows = _run_json(capsys, str(EMD), str(EMI), str(CZI), "--out", str(out))
    assert code == 0
    assert rows == [
        {
            "path": str(EMD),
            "outputs": [str(out.resolve() / "fei_example_tem_stack.ome.tif")],
            "status": "converted",
            "reason": None,
        },
        {
            "path": str(EMI),
            "outputs": [str(out.resolve() / "64x64_TEM_images_acquire.ome.tif")],
            "status": "converted",
            "reason": None,
        },
        {"path": str(CZI), "outputs": [], "status": "as-is", "reason": None},
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "64x64_TEM_images_acquire.ome.tif",
        "fei_example_tem_stack.ome.tif",
    ]


def test_errors_have_reasons(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a microscope file")
    lone_ser = Path(shutil.copy(SER, tmp_path / SER.name))
    broken = tmp_path / "broken.emd"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    missing = tmp_path / "missing.emd"
    argv = [str(p) for p in (notes, SER, lone_ser, broken, missing)]
    code, rows = _run_json(capsys, *argv, "--out", str(tmp_path / "out"))
    assert code == 1
    assert [row["status"] for row in rows] == ["error"] * 5
    reasons = [str(row["reason"]) for row in rows]
    assert reasons[0] == "notes.txt is not a microscope file this tool can read."
    assert reasons[1] == (
        "64x64_TEM_images_acquire_1.ser belongs to 64x64_TEM_images_acquire.emi; "
        "convert 64x64_TEM_images_acquire.emi instead."
    )
    assert "its .emi file is missing" in reasons[2]
    assert (
        reasons[3] == "broken.emd is damaged or incomplete; copy it again from the microscope PC."
    )
    assert reasons[4].endswith("missing.emd does not exist.")
    assert all(row["outputs"] == [] for row in rows)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_folders_are_walked_and_mirrored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "session"
    for sub in ("a", "b"):
        (source / sub).mkdir(parents=True)
        shutil.copy(EMD, source / sub / "scan.emd")
    shutil.copy(EMI, source / "a")
    shutil.copy(SER, source / "a")
    (source / "b" / "readme.txt").write_text("ignored")
    out = tmp_path / "out"
    code, rows = _run_json(capsys, str(source), "--out", str(out))
    assert code == 0
    assert [(Path(str(r["path"])).relative_to(source).as_posix(), r["status"]) for r in rows] == [
        ("a/64x64_TEM_images_acquire.emi", "converted"),
        ("a/scan.emd", "converted"),
        ("b/scan.emd", "converted"),
    ]
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a/64x64_TEM_images_acquire.ome.tif", "a/scan.ome.tif", "b/scan.ome.tif"]


def test_outputs_inside_the_walked_folder_are_not_walked(tmp_path: Path) -> None:
    source = tmp_path / "session"
    source.mkdir()
    shutil.copy(EMD, source)
    results = list(convert_paths([source], source / "converted"))
    assert [r.status for r in results] == ["converted"]
    assert [r.path.name for r in list(convert_paths([source], source / "converted"))] == [EMD.name]


def test_sources_are_left_untouched(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    copy = Path(shutil.copy(EMI, source))
    shutil.copy(SER, source)
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in source.iterdir()}
    list(convert_paths([copy], tmp_path / "out"))
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in source.iterdir()}
    assert after == before


def test_plain_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["convert", str(CZI), str(tmp_path / "nope.czi"), "--out", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[0] == f"as-is      {CZI} -> nothing written"
    assert lines[1].startswith("error      ") and lines[1].endswith("nope.czi does not exist.")


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(EMD)])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_out_may_be_the_walked_folder_itself(tmp_path: Path) -> None:
    source = tmp_path / "session"
    source.mkdir()
    shutil.copy(EMD, source)
    results = list(convert_paths([source], source))
    assert [(r.path.name, r.status) for r in results] == [(EMD.name, "converted")]
    assert (source / "fei_example_tem_stack.ome.tif").is_file()
