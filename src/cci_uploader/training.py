"""What the window needs of the training sandbox, without importing the stand-in.

The CLI's ``gui --sandbox`` (:mod:`cci_uploader.cli.gui`) starts the stand-in
(:mod:`cci_uploader.cli.sandbox`) and hands the window a :class:`Training`:
where to connect, the token to join with, and how to show what the stand-in
holds for an image (there is no OMERO.web in the sandbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class ImageRecord:
    """One image as the server stores it."""

    image_id: int
    name: str
    project: str
    dataset: str
    files: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Training:
    """A running training sandbox, as the window sees it."""

    address: str
    token: str
    inspect: Callable[[int], ImageRecord]
