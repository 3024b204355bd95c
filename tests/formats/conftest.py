"""Fixtures shared by the format tests: Bio-Formats validation and a pinned time zone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.formats.bioformats import BioFormatsUnavailable, ImageInfo, bioformats_jar, image_info
from tests.formats.bioformats import java as find_java


@pytest.fixture(scope="session")
def bioformats() -> Callable[[Path], ImageInfo]:
    """Return ``info(path)``: Bio-Formats' reading of an OME-TIFF.

    Fails (never skips) when Java or the jar is missing: an unvalidated
    OME-TIFF must not pass silently.
    """
    try:
        find_java()
        jar = bioformats_jar()
    except BioFormatsUnavailable as exc:
        pytest.fail(f"Bio-Formats validation unavailable: {exc}", pytrace=False)

    def info(path: Path) -> ImageInfo:
        return image_info(jar, path)

    return info


@pytest.fixture
def pin_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Return ``pin(name)``, which sets this process's local time zone until the test ends."""

    def pin(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield pin
    monkeypatch.undo()  # before tzset, so the zone in force before the test comes back
    time.tzset()
