"""The facility config: a TOML file, machine-wide first, then the user's.

Keys (all optional; defaults suit the training sandbox)::

    [omero]
    server = "omero.example.org"        # HOST[:PORT] or tcp://HOST:PORT
    web_url = "https://omero.example.org/webclient/"
    token_url = "https://omero.example.org/oauth/sessiontoken"

    [annotations]
    keys = ["Sample", "Project code"]   # offered in the key-value editor

    [microscopes]
    default = "LSM 980 (room 2.14)"     # this PC's microscope, for files that name none
    [microscopes.map]                   # name or ID as stored -> OMERO Project name
    "2635000123" = "LSM 980"

    [retention]
    days = 28

    [cleanup]
    dry_run = true                      # the scheduled clean-up only reports
    delete_mode = "recycle"             # or "delete": skip the recycle bin
    account = "svc-omero-cleanup"       # OMERO account it logs in as (password: keyring)
    older_than_days = 30                # files younger than this are not looked at

The machine-wide file is refused when ordinary users can change it or its folder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from collections.abc import Callable

APP = "cci-uploader"
DELETE_MODES = ("recycle", "delete")
UNKNOWN_MICROSCOPE = "Unknown microscope"


class ConfigError(Exception):
    """The config file has a bad value; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    """Settings from the facility config."""

    server: str = "localhost:4064"  # the training sandbox (cci-uploader sandbox), over SSL
    web_url: str = "http://localhost:4080/webclient/"
    token_url: str = "http://localhost:4080/oauth/sessiontoken"
    keys: tuple[str, ...] = ("Sample",)
    microscope_map: dict[str, str] = field(default_factory=dict)
    default_microscope: str | None = None
    retention_days: int = 28
    cleanup_dry_run: bool = True
    delete_mode: str = "recycle"
    cleanup_account: str | None = None
    cleanup_older_than_days: int = 30
    sources: tuple[Path, ...] = ()


def config_paths() -> list[Path]:
    """Where config files are looked for, lowest precedence first."""
    paths = [
        Path(platformdirs.site_config_dir(APP, appauthor=False)) / "config.toml",
        Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml",
    ]
    if env := os.environ.get("CCI_UPLOADER_CONFIG"):
        paths.append(Path(env))
    return paths


_KINDS = {int: "a whole number", str: "text in quotes", list: "a list", dict: "a table"}


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where} must be {_KINDS.get(kind, kind.__name__)}, not {value!r}.")
    return value


def _merge(values: dict[str, Any], data: dict[str, Any], source: Path) -> None:
    """Check each section of one config file and merge what it sets into ``values``."""
    for section, merge in _SECTIONS.items():
        table = _expect(data.get(section, {}), dict, f"{source}: [{section}]")
        merge(values, table, _Where(source, section))


@dataclass(frozen=True)
class _Where:
    """Names a setting in error messages: ``<file>: section.key``."""

    source: Path
    section: str

    def __call__(self, key: str) -> str:
        return f"{self.source}: {self.section}.{key}"

    def table(self, key: str) -> str:
        """The name of a sub-table: ``<file>: [section.key]``."""
        return f"{self.source}: [{self.section}.{key}]"


def _at_least_one(table: dict[str, Any], key: str, where: _Where) -> int:
    number = _expect(table[key], int, where(key))
    if number < 1:
        raise ConfigError(f"{where(key)} must be at least 1, not {number}.")
    return int(number)


def _merge_omero(values: dict[str, Any], table: dict[str, Any], where: _Where) -> None:
    for key in ("server", "web_url", "token_url"):
        if key in table:
            values[key] = _expect(table[key], str, where(key))


def _merge_annotations(values: dict[str, Any], table: dict[str, Any], where: _Where) -> None:
    if "keys" in table:
        keys = _expect(table["keys"], list, where("keys"))
        keys = [_expect(k, str, where("keys")).strip() for k in keys]
        values["keys"] = tuple(dict.fromkeys(["Sample", *[k for k in keys if k]]))


def _merge_microscopes(values: dict[str, Any], table: dict[str, Any], where: _Where) -> None:
    if "default" in table:
        values["default_microscope"] = _expect(table["default"], str, where("default")) or None
    if "map" in table:
        mapping = _expect(table["map"], dict, where.table("map"))
        values["microscope_map"] = {
            str(k): _expect(v, str, where(f"map.{k}")) for k, v in mapping.items()
        }


def _merge_retention(values: dict[str, Any], table: dict[str, Any], where: _Where) -> None:
    if "days" in table:
        values["retention_days"] = _at_least_one(table, "days", where)


def _merge_cleanup(values: dict[str, Any], table: dict[str, Any], where: _Where) -> None:
    if "dry_run" in table:
        values["cleanup_dry_run"] = _expect(table["dry_run"], bool, where("dry_run"))
    if "delete_mode" in table:
        mode = _expect(table["delete_mode"], str, where("delete_mode"))
        if mode not in DELETE_MODES:
            raise ConfigError(
                f'{where("delete_mode")} must be "recycle" (to the recycle bin) or '
                f'"delete" (removed for good), not {mode!r}.'
            )
        values["delete_mode"] = mode
    if "account" in table:
        values["cleanup_account"] = _expect(table["account"], str, where("account")).strip() or None
    if "older_than_days" in table:
        values["cleanup_older_than_days"] = _at_least_one(table, "older_than_days", where)


_SECTIONS: dict[str, Callable[[dict[str, Any], dict[str, Any], _Where], None]] = {
    "omero": _merge_omero,
    "annotations": _merge_annotations,
    "microscopes": _merge_microscopes,
    "retention": _merge_retention,
    "cleanup": _merge_cleanup,
}


def machine_config_path() -> Path:
    """The facility's machine-wide config file (``%ProgramData%`` on Windows)."""
    return config_paths()[0]


def _refuse_if_writable(path: Path) -> None:
    from cci_uploader.config_guard import unsafe_reason

    reason = unsafe_reason(path)
    if reason is not None:
        raise ConfigError(
            f"The facility config {path} is not protected: {reason}, so any user of this "
            "PC could change which server the app trusts. The app does not use it. "
            "Facility staff: allow only SYSTEM and Administrators to change the file and "
            "its folder (Users read-only), for example by reinstalling the uploader."
        )


def load_config(paths: list[Path] | None = None) -> Config:
    """Read and merge the config files that exist; later files win.

    The machine-wide config is refused (:class:`ConfigError`) when ordinary users
    can change it.
    """
    values: dict[str, Any] = {}
    sources = []
    machine = machine_config_path()
    for path in config_paths() if paths is None else paths:
        if not path.is_file():
            continue
        if path == machine:
            _refuse_if_writable(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        _merge(values, data, path)
        sources.append(path)
    return Config(**values, sources=tuple(sources))
