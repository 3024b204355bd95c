"""``cci-uploader --self-test``: every step passes here, and a broken part makes it fail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from cci_uploader.cli import main
from cci_uploader.formats import BUILTIN_MODULES, detect, get_format
from cci_uploader.selftest import StepResult, run_self_test, runner, samples
from cci_uploader.stewardship.history import history_path

CONVERTIBLE = [get_format(name).label for name in ("emd", "emi_ser", "mrc_xml", "sem_tif")]
UTC_NOON = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def _by_name(results: list[StepResult]) -> dict[str, StepResult]:
    return {result.name: result for result in results}


def test_every_step_passes(tmp_path: Path) -> None:
    results = list(run_self_test(work_dir=tmp_path, gui=False))
    failed = [r.line() for r in results if not r.ok]
    assert failed == []
    steps = _by_name(results)
    for name in ("czi", "emd", "tia", "mrc", "fibics", "sem_tif"):
        assert f"import format plugin {name}" in steps
    for label in CONVERTIBLE:
        assert steps[f"{label}: read and convert"].detail.count(".ome.tif") == 1
        # The import step checked the image is stored by the sandbox; it names its id.
        assert "image " in steps[f"{label}: import"].detail
    assert steps["import omero-py and Ice"].detail.endswith("Ice 3.6.5")
    assert not any(r.name.startswith("open the Qt") for r in results)
    assert not history_path().exists()  # its imports went to a throwaway history


@pytest.mark.parametrize(
    ("writer", "fmt", "microscope", "acquired"),
    [
        (samples.write_emd, "emd", "Self-test scope 1", UTC_NOON),
        (samples.write_emi_ser, "emi_ser", "Self-test scope", None),
        (samples.write_mrc_xml, "mrc_xml", "Self-test scope", UTC_NOON),
        (samples.write_sem_tif, "sem_tif", "Self-test scope", None),
    ],
    ids=["emd", "emi_ser", "mrc_xml", "sem_tif"],
)
def test_generated_files_carry_their_metadata(
    writer: Callable[[Path], Path],
    fmt: str,
    microscope: str,
    acquired: dt.datetime | None,
    tmp_path: Path,
) -> None:
    path = writer(tmp_path)
    module = detect(path)
    assert module is not None
    claimed_by = module.name
    assert claimed_by == fmt
    meta = module.read_metadata(path)
    assert meta.microscope == microscope
    assert meta.pixel_size_m == pytest.approx((2.5e-9, 2.5e-9), rel=1e-12)
    assert meta.images == 1
    assert meta.acquired is not None
    if acquired is not None:  # stored with its offset; the others are local wall time
        assert meta.acquired == acquired
    else:
        assert meta.acquired.replace(tzinfo=None) in (
            dt.datetime(2024, 3, 1, 12, 0),
            UTC_NOON.astimezone().replace(tzinfo=None),
        )


def test_a_damaged_file_fails_its_steps_and_the_rest_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_hdf5(folder: Path) -> Path:
        path = folder / "broken.emd"
        path.write_bytes(b"this is not an HDF5 file")
        return path

    convertible = [(name, not_hdf5 if name == "emd" else w) for name, w in runner.CONVERTIBLE]
    monkeypatch.setattr(runner, "CONVERTIBLE", tuple(convertible))
    steps = _by_name(list(run_self_test(work_dir=tmp_path, gui=False)))
    assert steps["Velox EMD: generate"].ok
    assert not steps["Velox EMD: read and convert"].ok
    detail = steps["Velox EMD: read and convert"].detail
    assert "no converting format plugin claims broken.emd" in detail
    assert not steps["Velox EMD: import"].ok
    assert "the scan refused it" in steps["Velox EMD: import"].detail
    assert steps["EMI+SER: import"].ok and steps["Zeiss SEM TIFF: import"].ok
    assert steps["Velox EMD: import"].line().startswith("FAIL  Velox EMD: import: ")


def test_without_a_sandbox_the_imports_fail_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cci_uploader.sandbox

    def refuse(port: int = 0, protocol: str = "tcp") -> None:
        raise OSError("address already in use")

    monkeypatch.setattr(cci_uploader.sandbox, "SandboxServer", refuse)
    steps = _by_name(list(run_self_test(work_dir=tmp_path, gui=False)))
    assert steps["start the sandbox"].detail == "OSError: address already in use"
    assert "the sandbox did not start" in steps["connect to the sandbox"].detail
    for label in CONVERTIBLE:
        assert steps[f"{label}: read and convert"].ok
        assert "no connection to the sandbox" in steps[f"{label}: import"].detail


def test_cli_flag_prints_a_line_per_step_and_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    with pytest.raises(SystemExit) as exit_info:
        main(["--self-test"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0, out
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    # Plugins, omero-py, the sandbox, three per converted format, CZI, the scan's
    # worker process, Qt and the user guide.
    assert len(lines) == len(BUILTIN_MODULES) + 1 + 2 + 3 * len(CONVERTIBLE) + 1 + 1 + 2
    assert all(line.startswith("PASS  ") for line in lines)
    assert "PASS  scan in worker processes: a worker process read 32 files" in out
    assert "PASS  open the Qt GUI toolkit: " in out
    # Over SSL, as the real server: IceSSL must read the stand-in's certificate.
    assert "PASS  start the sandbox: listening on ssl://127.0.0.1:" in out
    assert "PASS  find the user guide: user-guide.md" in out
    assert "self-test passed" in out


def test_cli_flag_exits_1_on_a_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> str:
        raise ImportError(f"cannot import {name}")

    monkeypatch.setattr(runner, "_import_plugin", broken)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    with pytest.raises(SystemExit) as exit_info:
        main(["--self-test"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 1
    assert "FAIL  import format plugin mrc: ImportError: cannot import mrc" in captured.out
    assert f"self-test FAILED: {len(BUILTIN_MODULES)} step(s) failed" in captured.err
