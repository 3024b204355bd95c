"""The installer's files agree with the app: config location, example config, version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

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


def _iss_text() -> str:
    return ISS.read_text(encoding="utf-8")


def test_upgrade_deletes_the_previous_libraries_first() -> None:
    (entry,) = _iss_entries("InstallDelete")
    assert entry == {"Type": "filesandordirs", "Name": "{app}\\_internal"}


def test_needs_windows_10_1809_and_inno_setup_6_3() -> None:
    text = _iss_text()
    assert "\nMinVersion=10.0.17763\n" in text  # Python 3.12 and Qt 6: not on 7 or 8.1
    assert "#if VER < EncodeVer(6, 3, 0)\n  #error Inno Setup 6.3 or later" in text


def test_setup_carries_the_icon_and_the_package_version() -> None:
    text = _iss_text()
    assert "SetupIconFile=cci-uploader.ico" in text
    assert (INSTALLER / "cci-uploader.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO
    assert "VersionInfoVersion={#AppVersion}" in text


def test_config_folder_permissions_are_set_by_well_known_sid() -> None:
    code = _iss_text().split("[Code]", 1)[1]
    assert "function PrepareToInstall(" in code  # before any file, and it can stop Setup
    grants = re.search(r"AclGrants = '([^']*)'", code)
    assert grants is not None
    assert grants.group(1).split() == [
        "*S-1-5-18:(OI)(CI)F",  # SYSTEM
        "*S-1-5-32-544:(OI)(CI)F",  # Administrators
        "*S-1-5-32-545:(OI)(CI)RX",  # Users: read only
    ]
    assert "/inheritance:r /grant:r" in code
    assert "if ResultCode <> 0 then" in code


def test_task_definition_is_kept_outside_program_files() -> None:
    tasks = [e for e in _iss_entries("Files") if e["Source"] == "cleanup-task.xml"]
    editable = [e for e in tasks if e["DestDir"] == "{#ConfigDir}"]
    assert len(editable) == 1
    assert set(editable[0]["Flags"].split()) == {"onlyifdoesntexist", "uninsneveruninstall"}
    in_app = [e for e in tasks if e["DestDir"] == "{app}"]
    assert [e.get("DestName") for e in in_app] == ["cleanup-task.example.xml"]


def test_windows_version_resource_is_the_pyproject_version() -> None:
    import ast
    import sys

    sys.path.insert(0, str(INSTALLER.parent / "tools"))
    try:
        import windows_version
    finally:
        sys.path.pop(0)
    version = tomllib.loads((INSTALLER.parent / "pyproject.toml").read_text())["project"]["version"]
    text = windows_version.version_text("cci-uploader-cli.exe", "CCI OMERO Uploader (command line)")
    call = ast.parse(text, mode="eval").body
    assert isinstance(call, ast.Call) and call.func.id == "VSVersionInfo"  # type: ignore[attr-defined]
    strings = {
        c.args[0].value: c.args[1].value  # type: ignore[attr-defined]
        for c in ast.walk(call)
        if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "StringStruct"
    }
    assert strings["FileVersion"] == strings["ProductVersion"] == version
    assert strings["OriginalFilename"] == "cci-uploader-cli.exe"
    numbers = (*(int(n) for n in version.split(".")), 0)
    assert f"filevers={numbers!r}" in text
    with pytest.raises(ValueError, match="needs numbers"):
        windows_version.numeric("1.0rc1")


def _spec_pattern(name: str) -> re.Pattern[str]:
    """A pattern the spec assigns to ``name`` (the spec itself only runs inside PyInstaller)."""
    import ast

    spec = (INSTALLER / "cci-uploader.spec").read_text(encoding="utf-8")
    for node in ast.parse(spec).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            pattern = eval(compile(ast.Expression(node.value), "spec", "eval"), {"re": re})
            assert isinstance(pattern, re.Pattern)
            return pattern
    raise AssertionError(f"{name} not found in the spec")


def _qt_drop() -> re.Pattern[str]:
    return _spec_pattern("QT_DROP")


def test_pygments_lexers_go_from_the_archive_and_as_loose_pyc_files() -> None:
    # Windows collects the code as loose .pyc files (noarchive), Linux into the PYZ.
    modules, files = _spec_pattern("PYGMENTS_DROP"), _spec_pattern("PYGMENTS_DROP_PYC")
    assert modules.match("pygments.lexers.python") and files.match("pygments/lexers/python.pyc")
    assert files.match("pygments/styles/default.pyc")
    assert files.match("pygments/formatters/html.pyc")
    for kept in ("_mapping", "__init__"):
        assert not files.match(f"pygments/lexers/{kept}.pyc")
    assert not modules.match("pygments.lexers._mapping") and not modules.match("pygments.lexers")
    assert not files.match("pygments/lexer.pyc") and not files.match("pygments/util.pyc")


@pytest.mark.parametrize("qt", ["PySide6/Qt", "PySide6"], ids=["linux", "windows"])
def test_qt_trimming_matches_both_layouts(qt: str) -> None:
    drop = _qt_drop()
    for dropped in (
        "translations/qtbase_de.qm",
        "plugins/imageformats/qjpeg.dll",
        "plugins/imageformats/libqgif.so",
        "plugins/platformthemes/libqgtk3.so",
        "plugins/generic/qtuiotouchplugin.dll",
    ):
        assert drop.search(f"{qt}/{dropped}"), dropped
    for kept in (
        "plugins/platforms/qwindows.dll",
        "plugins/platforms/libqxcb.so",
        "plugins/platforms/qoffscreen.dll",
        "plugins/imageformats/qico.dll",
        "plugins/imageformats/libqsvg.so",
        "plugins/styles/qmodernwindowsstyle.dll",
    ):
        assert not drop.search(f"{qt}/{kept}"), kept
    assert drop.search("PySide6/opengl32sw.dll")
    assert not drop.search("PySide6/Qt6Widgets.dll")
