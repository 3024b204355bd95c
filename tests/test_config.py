"""The facility config: machine-wide, then the user's, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader.config import ConfigError, config_paths, load_config


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_point_at_the_sandbox() -> None:
    config = load_config([])
    assert config.server == "localhost:4064"
    assert config.keys == ("Sample",)
    assert config.retention_days == 28


def test_machine_then_user_file(_isolated_dirs: Path) -> None:
    machine, user = config_paths()[:2]
    assert machine.is_relative_to(_isolated_dirs) and user.is_relative_to(_isolated_dirs)
    _write(
        machine,
        """
[omero]
server = "omero.facility.example"
[annotations]
keys = ["Project code", "Sample"]
[microscopes]
default = "LSM 980"
[microscopes.map]
"2635000123" = "LSM 980"
""",
    )
    _write(user, '[omero]\nserver = "omero-test.facility.example:4064"\n')
    config = load_config()
    assert config.server == "omero-test.facility.example:4064"
    assert config.keys == ("Sample", "Project code")
    assert config.microscope_map == {"2635000123": "LSM 980"}
    assert config.sources == (machine, user)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retention]\ndays = 0\n", "retention.days must be at least 1"),
        ('[retention]\ndays = "28"\n', "retention.days must be a whole number"),
        ('[annotations]\nkeys = "Sample"\n', "annotations.keys must be a list"),
        ("[omero\nserver = 1\n", "is not valid TOML"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError, match=message) as exc:
        load_config([path])
    assert str(path) in str(exc.value)
