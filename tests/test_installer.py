"""The installer's files agree with the app: config location, example config, version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cci_uploader.config import APP, Config, config_paths, load_config

INSTALLER = Path(__file__).resolve().parents[1] / "installer"
EXAMPLE = INSTALLER / "config.example.toml"
ISS = INSTALLER / "cci-uploader.iss"


def _iss_entries(section: str) -> list[dict[str, str]]:
    """The entries of one section of the Inno Setup script, as parameter dicts."""
    entries, current = [], None
    for line in ISS.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = line.strip()
        elif current == f"[{section}]" and line and not line.startswith(";"):
            params = re.findall(r'(\w+): ("[^"]*"|[^;]+)', line)
            entries.append({k: v.strip().strip('"') for k, v in params})
    return entries


def test_example_config_is_valid_and_points_at_the_sandbox() -> None:
    config = load_config([EXAMPLE])
    assert config.sources == (EXAMPLE,)
    assert config.server == "localhost:4064"
    assert config.web_url.startswith("http://localhost")
    assert config.keys[0] == "Sample" and "Project code" in config.keys
    assert config.cleanup_dry_run is True
    assert config.retention_days == Config().retention_days


def test_example_config_documents_every_section() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(data) == {"omero", "annotations", "microscopes", "retention", "cleanup"}
    assert set(data["omero"]) == {"server", "web_url", "token_url"}
    assert set(data["microscopes"]) == {"default", "map"}


def test_installer_puts_the_config_where_the_app_reads_it() -> None:
    (config,) = [e for e in _iss_entries("Files") if e.get("DestName") == "config.toml"]
    assert config["Source"] == EXAMPLE.name
    # {#ConfigDir} is {commonappdata}\<APP>; the app reads <site>/<APP>/config.toml.
    assert '#define ConfigDir "{commonappdata}\\' + APP + '"' in ISS.read_text(encoding="utf-8")
    machine_wide = config_paths()[0]
    assert (machine_wide.parent.name, machine_wide.name) == (APP, config["DestName"])
    assert set(config["Flags"].split()) == {"onlyifdoesntexist", "uninsneveruninstall"}


def test_installer_name_carries_the_version() -> None:
    text = ISS.read_text(encoding="utf-8")
    assert "OutputBaseFilename=CCI-OMERO-Uploader-Setup-{#AppVersion}" in text
    assert "AppVersion={#AppVersion}" in text
    shortcuts = _iss_entries("Icons")
    assert {e["Parameters"] for e in shortcuts} == {"gui", "gui --sandbox"}
    assert any(e.get("Tasks") == "desktopicon" for e in shortcuts)
