"""What the window remembers between sessions, in QSettings (never the token)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings

from cci_uploader.config import APP, Config


def default_settings_path() -> Path:
    """The INI file next to the user's config (it follows ``XDG_CONFIG_HOME``)."""
    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "gui.ini"


class AppSettings:
    """Remembered choices: last group per server, last pairs, Settings, the window's place.

    Parameters
    ----------
    path : Path
        The INI file; tests give one under ``tmp_path``.
    """

    def __init__(self, path: Path) -> None:
        self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)

    @staticmethod
    def _server_key(server: str) -> str:
        # QSettings keys treat "/" as a group separator.
        return "last_group/" + server.replace("/", "_").replace(":", "_")

    def last_group(self, server: str) -> int | None:
        """The group id last used on ``server``."""
        value = self.qsettings.value(self._server_key(server))
        return int(str(value)) if value not in (None, "") else None

    def set_last_group(self, server: str, group_id: int) -> None:
        """Remember the group used on ``server``."""
        self.qsettings.setValue(self._server_key(server), group_id)
        self.qsettings.sync()

    def last_pairs(self) -> list[tuple[str, str]]:
        """The key-value pairs of the last batch."""
        raw = self.qsettings.value("pairs/last", "[]")
        try:
            data = json.loads(str(raw))
        except json.JSONDecodeError:
            return []
        return [(str(k), str(v)) for k, v in data if isinstance(k, str) and isinstance(v, str)]

    def set_last_pairs(self, pairs: list[tuple[str, str]]) -> None:
        """Remember the batch's pairs."""
        self.qsettings.setValue("pairs/last", json.dumps(pairs))
        self.qsettings.sync()

    def apply_overrides(self, config: Config) -> Config:
        """``config`` with the server and URLs changed in Settings, if any."""
        changes: dict[str, str] = {}
        for key in ("server", "web_url", "token_url"):
            value = self.qsettings.value(f"connection/{key}")
            if value:
                changes[key] = str(value)
        return dataclasses.replace(config, **changes)  # type: ignore[arg-type]

    def apply_microscope(self, config: Config) -> Config:
        """``config`` with this user's default microscope, when one is set in Settings."""
        name = self.default_microscope()
        return dataclasses.replace(config, default_microscope=name) if name else config

    def default_microscope(self) -> str:
        """The default microscope this user set ("" when the facility config decides)."""
        return str(self.qsettings.value("microscope/default", "") or "").strip()

    def set_default_microscope(self, name: str) -> None:
        """Set (or, with "", clear) this user's default microscope for files that name none."""
        self.qsettings.setValue("microscope/default", name.strip())
        self.qsettings.sync()

    def window_geometry(self) -> bytes | None:
        """The window's size and place when it was last closed."""
        value = self.qsettings.value("window/geometry")
        if isinstance(value, QByteArray):
            return bytes(value.data())
        return bytes(value) if isinstance(value, bytes | bytearray) else None

    def set_window_geometry(self, geometry: bytes) -> None:
        """Remember the window's size and place."""
        self.qsettings.setValue("window/geometry", QByteArray(geometry))
        self.qsettings.sync()

    def save_overrides(self, server: str, web_url: str, token_url: str) -> None:
        """Remember the server and URLs chosen in Settings."""
        for key, value in (("server", server), ("web_url", web_url), ("token_url", token_url)):
            self.qsettings.setValue(f"connection/{key}", value)
        self.qsettings.sync()
