"""The Windows version resource of both exes, from the one version in pyproject.toml.

    python tools/windows_version.py OUT.txt EXE_NAME DESCRIPTION

installer/cci-uploader.spec writes one such file per exe (with ``version_file``)
and passes it to PyInstaller's EXE, which reads it on Windows only. The text is
PyInstaller's version-file format (what ``pyi-grab_version`` writes); it is made
here as text because PyInstaller's classes for it only import on Windows. The
installer's own file version comes from the same number (``AppVersion``).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
COMPANY = "Centre for Cellular Imaging"
PRODUCT = "CCI OMERO Uploader"
# U.S. English (0x0409) and Unicode (code page 1200): the string table Explorer reads.
LANG, CODEPAGE = 0x0409, 1200


def project_version(pyproject: Path = PYPROJECT) -> str:
    """``[project] version`` from pyproject.toml."""
    with pyproject.open("rb") as f:
        version: str = tomllib.load(f)["project"]["version"]
    return version


def numeric(version: str) -> tuple[int, int, int, int]:
    """The four numbers of a Windows file version; refuses what Windows cannot show."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(
            f"Version {version!r} is not MAJOR.MINOR.PATCH; a Windows file version needs numbers."
        )
    major, minor, patch = (int(part) for part in match.groups())
    if max(major, minor, patch) > 0xFFFF:
        raise ValueError(f"Version {version!r} has a part above 65535.")
    return major, minor, patch, 0


def strings(exe_name: str, description: str, version: str) -> dict[str, str]:
    """The version resource's string table."""
    return {
        "CompanyName": COMPANY,
        "FileDescription": description,
        "FileVersion": version,
        "InternalName": exe_name.removesuffix(".exe"),
        "OriginalFilename": exe_name,
        "ProductName": PRODUCT,
        "ProductVersion": version,
    }


def version_text(exe_name: str, description: str, version: str | None = None) -> str:
    """PyInstaller's version-file text for one exe."""
    version = version or project_version()
    numbers = numeric(version)
    table = ",\n".join(
        f"          StringStruct({key!r}, {value!r})"
        for key, value in strings(exe_name, description, version).items()
    )
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers!r}, prodvers={numbers!r}),
  kids=[
    StringFileInfo([
      StringTable('{LANG:04x}{CODEPAGE:04x}', [
{table}
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [{LANG}, {CODEPAGE}])])
  ]
)
"""


def version_file(out: Path, exe_name: str, description: str) -> Path:
    """Write ``version_text`` to ``out``; return ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(version_text(exe_name, description), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(version_file(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
