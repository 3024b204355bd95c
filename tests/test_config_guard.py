"""A machine-wide config that ordinary users can change is refused, with a message for staff."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader.cli import main
from cci_uploader.config import ConfigError, load_config, machine_config_path
from cci_uploader.config_guard import writers_in_sddl


@pytest.fixture
def machine_config() -> Path:
    path = machine_config_path()
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o755)
    path.write_text('[omero]\nserver = "omero.example.org"\n')
    path.chmod(0o644)
    return path


def test_a_config_only_staff_can_change_is_used(machine_config: Path) -> None:
    assert load_config().server == "omero.example.org"


@pytest.mark.parametrize(
    ("file_mode", "folder_mode", "who"),
    [
        (0o666, 0o755, "its group, everyone can change it"),
        (0o664, 0o755, "its group can change it"),
        (0o644, 0o777, "its group, everyone can change the folder it is in"),
        (
            0o644,
            0o1777,
            "its group, everyone can change the folder it is in",
        ),  # sticky: can still plant
    ],
)
def test_a_config_ordinary_users_can_change_is_refused(
    machine_config: Path,
    file_mode: int,
    folder_mode: int,
    who: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    machine_config.chmod(file_mode)
    machine_config.parent.chmod(folder_mode)
    with pytest.raises(ConfigError) as refused:
        load_config()
    message = str(refused.value)
    assert message.startswith(f"The facility config {machine_config} is not protected: {who}")
    assert "Facility staff: allow only SYSTEM and Administrators" in message
    assert main(["retention", "list"]) == 1  # every command stops with the message
    assert "is not protected" in capsys.readouterr().err


def test_a_users_own_config_is_not_subject_to_the_machine_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "mine.toml"
    own.write_text("[retention]\ndays = 14\n")
    own.chmod(0o666)
    monkeypatch.setenv("CCI_UPLOADER_CONFIG", str(own))
    assert load_config().retention_days == 14


# SDDL as Windows writes it for %ProgramData%\cci-uploader: well-known SIDs by alias.
INSTALLED = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
INHERITED = (
    "D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)"
    "(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)"  # ProgramData: Users may create
)


@pytest.mark.parametrize(
    ("sddl", "folder", "writers"),
    [
        (INSTALLED, True, []),
        (INSTALLED, False, []),
        (INHERITED, True, ["BU"]),  # the default: any user can plant a config.toml
        ("D:(A;;FA;;;WD)", False, ["WD"]),
        ("D:(A;;FR;;;WD)(A;;FW;;;S-1-5-11)", False, ["S-1-5-11"]),
        ("D:(A;;0x40000;;;BU)", False, ["BU"]),  # WRITE_DAC: can give itself the rest
        ("D:(A;OICIIO;FA;;;BU)", True, []),  # inherit-only: not this object
        ("D:(D;;FA;;;BU)(A;;FA;;;BA)", True, []),  # deny entries grant nothing
        ("D:(A;;0x4;;;BU)", True, []),  # a folder's "create folders" is not a file
        ("D:(A;;0x4;;;BU)", False, ["BU"]),  # a file's "append data" is a write
        ("D:NO_ACCESS_CONTROL", False, ["Everyone"]),
        ("D:(A;;ZZ;;;IU)", False, ["IU"]),  # an unknown right counts as every right
    ],
)
def test_windows_access_lists_are_read_by_well_known_sid(
    sddl: str, folder: bool, writers: list[str]
) -> None:
    assert writers_in_sddl(sddl, folder=folder) == writers
