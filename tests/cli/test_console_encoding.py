"""The console speaks UTF-8 whatever the code page: names print, a BOM token file works.

Windows gives a pipe the ANSI code page (cp1252); ``PYTHONIOENCODING=cp1252``
makes Python do the same here, so these run the real console script as Windows
would pipe it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from cci_uploader.sandbox import SandboxServer

EXE = Path(sys.executable).with_name("cci-uploader")


def _env(logs: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "cp1252", "CCI_UPLOADER_LOG_DIR": str(logs)}


def test_names_with_letters_and_emoji_print_through_a_cp1252_pipe(
    tmp_path: Path, _isolated_dirs: Path
) -> None:
    folder = tmp_path / "Åsa 😀"
    folder.mkdir()
    image = folder / "cell 😀.ome.tif"
    tifffile.imwrite(image, np.zeros((4, 4), np.uint8), ome=True)
    result = subprocess.run(
        [str(EXE), "scan", str(image)],
        capture_output=True,
        env=_env(_isolated_dirs / "logs"),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    out = result.stdout.decode("utf-8")  # UTF-8, not cp1252
    assert f"{image}: unsupported" in out
    assert "cell 😀.ome.tif is not a supported microscope file" in out


def test_token_piped_from_a_utf8_bom_file_is_accepted(
    sandbox: SandboxServer, token: str, samples: Path, tmp_path: Path, _isolated_dirs: Path
) -> None:
    """A token file saved by Notepad: UTF-8 with a byte-order mark, CRLF."""
    result = subprocess.run(
        [
            str(EXE),
            "import",
            str(samples / "czi" / "tiles_z.czi"),
            "--server",
            sandbox.address,
            "--group",
            "Sandbox Lab",
            "--json",
        ],
        input=b"\xef\xbb\xbf" + token.encode() + b"\r\n",
        capture_output=True,
        env=_env(_isolated_dirs / "logs"),
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert json.loads(result.stdout)["status"] == "uploaded"
