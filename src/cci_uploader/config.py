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
from typing import Any

import platformdirs

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
    def where(key: str) -> str:
        return f"{source}: {key}"

    omero = _expect(data.get("omero", {}), dict, where("[omero]"))
    for key in ("server", "web_url", "token_url"):
        if key in omero:
            values[key] = _expect(omero[key], str, where(f"omero.{key}"))
    annotations = _expect(data.get("annotations", {}), dict, where("[annotations]"))
    if "keys" in annotations:
        keys = _expect(annotations["keys"], list, where("annotations.keys"))
        keys = [_expect(k, str, where("annotations.keys")).strip() for k in keys]
        values["keys"] = tuple(dict.fromkeys(["Sample", *[k for k in keys if k]]))
    microscopes = _expect(data.get("microscopes", {}), dict, where("[microscopes]"))
    if "default" in microscopes:
        values["default_microscope"] = (
            _expect(microscopes["default"], str, where("microscopes.default")) or None
        )
    if "map" in microscopes:
        mapping = _expect(microscopes["map"], dict, where("[microscopes.map]"))
        values["microscope_map"] = {
            str(k): _expect(v, str, where(f"microscopes.map.{k}")) for k, v in mapping.items()
        }
    retention = _expect(data.get("retention", {}), dict, where("[retention]"))
    if "days" in retention:
        days = _expect(retention["days"], int, where("retention.days"))
        if days < 1:
            raise ConfigError(f"{where('retention.days')} must be at least 1, not {days}.")
        values["retention_days"] = days
    cleanup = _expect(data.get("cleanup", {}), dict, where("[cleanup]"))
    if "dry_run" in cleanup:
        values["cleanup_dry_run"] = _expect(cleanup["dry_run"], bool, where("cleanup.dry_run"))
    if "delete_mode" in cleanup:
        mode = _expect(cleanup["delete_mode"], str, where("cleanup.delete_mode"))
        if mode not in DELETE_MODES:
            raise ConfigError(
                f'{where("cleanup.delete_mode")} must be "recycle" (to the recycle bin) or '
                f'"delete" (removed for good), not {mode!r}.'
            )
        values["delete_mode"] = mode
    if "account" in cleanup:
        values["cleanup_account"] = (
            _expect(cleanup["account"], str, where("cleanup.account")).strip() or None
        )
    if "older_than_days" in cleanup:
        age = _expect(cleanup["older_than_days"], int, where("cleanup.older_than_days"))
        if age < 1:
            raise ConfigError(f"{where('cleanup.older_than_days')} must be at least 1, not {age}.")
        values["cleanup_older_than_days"] = age


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
