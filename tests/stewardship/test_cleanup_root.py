"""The clean-up stays inside its root: links, recycle bins, the app's own files, bad roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.cleanup import LINK
from cci_uploader.stewardship.history import History
from tests.stewardship.stewardship_helpers import (
    TIA,
    age,
    copy_samples,
    czi_copy,
    facility_config,
    report_reasons,
    report_sections,
    upload,
)


@pytest.fixture
def real_run(
    sandbox: SandboxServer, stored: None, facility: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A facility config that removes for good (the bin would hide a wrong removal)."""
    return facility_config(facility, sandbox.address, dry_run=False, delete_mode="delete")


def test_a_link_out_of_the_root_is_never_followed(
    real_run: Path,
    service: om.Connection,
    samples: Path,
    tmp_path: Path,
    _isolated_dirs: Path,
) -> None:
    # Reproduced: root/x.czi -> ../outside/x.czi, imported through the link; the
    # history keeps the resolved path, and the clean-up used to delete outside/x.czi.
    outside = czi_copy(samples, tmp_path / "outside", 1, "x.czi")
    root = tmp_path / "pc"
    root.mkdir()
    link = root / "x.czi"
    link.symlink_to(outside)
    (root / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)
    upload(service, History(), link)
    assert [u.main for u in History().uploads()] == [outside.resolve()]
    age(outside, link)
    assert main(["cleanup", "--root", str(root)]) == 0
    assert outside.is_file() and link.is_symlink()
    reasons = report_reasons(_isolated_dirs / "logs")
    assert reasons == {str(link): LINK}  # the linked folder was not walked either


def test_companions_go_together_or_not_at_all_when_one_is_a_link(
    real_run: Path,
    service: om.Connection,
    samples: Path,
    tmp_path: Path,
    _isolated_dirs: Path,
) -> None:
    emi, ser = copy_samples(samples, tmp_path / "pc" / "tem", *TIA)
    kept_ser = tmp_path / "outside" / ser.name
    kept_ser.parent.mkdir()
    ser.rename(kept_ser)
    ser.symlink_to(kept_ser)
    upload(service, History(), emi)  # the record names the resolved .ser outside the root
    age(emi, ser, kept_ser)
    assert main(["cleanup", "--root", str(tmp_path / "pc")]) == 0
    assert emi.is_file() and ser.is_symlink() and kept_ser.is_file()
    reasons = report_reasons(_isolated_dirs / "logs")
    assert "is a link or outside" in reasons[str(emi.resolve())]
    assert "go together or not at all" in reasons[str(emi.resolve())]
    assert reasons[str(ser)] == LINK


def test_recycle_bins_and_the_apps_own_files_under_the_root_are_not_data(
    real_run: Path,
    service: om.Connection,
    samples: Path,
    tmp_path: Path,
    _isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "pc"
    binned = [
        czi_copy(samples, root / "$RECYCLE.BIN" / "S-1-5-21-1", 1, "$R0001.czi"),
        czi_copy(samples, root / ".Trash-1000" / "files", 2, "old.czi"),
    ]
    data = czi_copy(samples, root / "data", 3, "cells.czi")
    history = History(root / "app" / "history.sqlite3")
    upload(service, history, *binned, data)
    monkeypatch.setenv("CCI_UPLOADER_LOG_DIR", str(root / "logs"))
    config = root / "facility.toml"
    config.write_text(real_run.read_text())
    monkeypatch.setenv("CCI_UPLOADER_CONFIG", str(config))
    assert main(["-v", "cleanup", "--root", str(root), "--history", str(history.path)]) == 0
    own = [history.path, config, *(root / "logs").iterdir()]
    age(*binned, data, *own)
    assert main(["cleanup", "--root", str(root), "--history", str(history.path)]) == 0
    _, sections = report_sections(root / "logs")
    assert sections["Removed"] == {data.resolve()}
    assert sections["Kept"] == set()
    assert all(p.exists() for p in [*binned, *own])
    assert not data.exists()


@pytest.mark.parametrize("which", ["home", "holds home", "drive root", "system", "profile"])
def test_a_drive_root_a_profile_or_a_system_folder_is_refused_as_root(
    real_run: Path,
    tmp_path: Path,
    which: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Another user's profile: a folder beside this user's USERPROFILE (C:\Users\someone).
    (tmp_path / "profiles" / "someone").mkdir(parents=True)
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "profiles" / "me"))
    root = {
        "home": Path.home(),
        "holds home": tmp_path,  # the tests' HOME is under tmp_path
        "drive root": Path("/"),
        "system": Path("/usr"),
        "profile": tmp_path / "profiles" / "someone",
    }[which]
    with pytest.raises(SystemExit) as stopped:
        main(["cleanup", "--root", str(root)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "the clean-up only works in a data folder" in err
    assert "Give the folder the microscope saves into." in err
