"""The facility config's [cleanup] table: safe defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader.config import Config, ConfigError, load_config


def _load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config([path])


def test_defaults_only_report_and_use_the_recycle_bin(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert (config.cleanup_dry_run, config.delete_mode) == (True, "recycle")


def test_values_are_read(tmp_path: Path) -> None:
    config = _load(tmp_path, '[cleanup]\ndry_run = false\ndelete_mode = "delete"\n')
    assert (config.cleanup_dry_run, config.delete_mode) == (False, "delete")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[cleanup]\ndelete_mode = "shred"\n', 'cleanup.delete_mode must be "recycle"'),
        ('[cleanup]\ndry_run = "no"\n', "cleanup.dry_run must be"),
        ("cleanup = 3\n", "[cleanup] must be"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml") as exc:
        _load(tmp_path, text)
    assert message in str(exc.value)
