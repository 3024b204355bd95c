"""The 4-week reminder's content: old images grouped by Project and Dataset.

Qt-free, so the reminder dialog and ``retention list`` show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from cci_uploader.progress import human_bytes

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

    from cci_uploader.omero.retention import OldImage

NO_PROJECT, NO_DATASET = "(no Project)", "(no Dataset)"


@dataclass(frozen=True)
class DatasetGroup:
    """The old images of one Dataset (in one group and Project)."""

    group: str
    project: str
    dataset: str
    dataset_id: int | None
    images: tuple[OldImage, ...]

    @property
    def count(self) -> int:
        """How many images."""
        return len(self.images)

    @property
    def fileset_ids(self) -> tuple[int, ...]:
        """The filesets that hold these images."""
        return tuple(sorted({i.fileset_id for i in self.images}))

    @property
    def size(self) -> int:
        """Bytes stored for these images' filesets."""
        return total_size(self.images)

    @property
    def oldest(self) -> dt.datetime:
        """When the oldest of these images was imported."""
        return min(i.imported for i in self.images)


def total_size(images: Iterable[OldImage]) -> int:
    """Bytes stored for the images' filesets, each fileset counted once."""
    return sum({i.fileset_id: i.fileset_bytes for i in images}.values())


def group_images(images: Iterable[OldImage]) -> list[DatasetGroup]:
    """Group images by (group, Project, Dataset), sorted by those names."""
    groups: dict[tuple[str, str, str, int | None], list[OldImage]] = {}
    for image in images:
        key = (
            image.group_name,
            image.project or NO_PROJECT,
            image.dataset or NO_DATASET,
            image.dataset_id,
        )
        groups.setdefault(key, []).append(image)
    return [
        DatasetGroup(g, p, d, ds_id, tuple(sorted(imgs, key=lambda i: i.image_id)))
        for (g, p, d, ds_id), imgs in sorted(groups.items(), key=lambda kv: kv[0][:3])
    ]


def filesets_by_group(images: Iterable[OldImage]) -> dict[int, list[int]]:
    """Group id -> fileset ids, as :func:`cci_uploader.omero.retention.delete_filesets` takes."""
    result: dict[int, set[int]] = {}
    for image in images:
        result.setdefault(image.group_id, set()).add(image.fileset_id)
    return {g: sorted(ids) for g, ids in sorted(result.items())}


def whole_filesets(selected: Iterable[OldImage], everything: Sequence[OldImage]) -> list[OldImage]:
    """Every image that goes when the selected images' filesets are deleted."""
    filesets = {i.fileset_id for i in selected}
    return [i for i in everything if i.fileset_id in filesets]


def web_link(web_url: str, images: Iterable[OldImage]) -> str:
    """OMERO.web's webclient URL that shows these images (or their one Dataset)."""
    images = list(images)
    datasets = {i.dataset_id for i in images}
    base = web_url if web_url.endswith("/") else web_url + "/"
    if len(datasets) == 1 and None not in datasets:
        return f"{base}?show=dataset-{datasets.pop()}"
    shown = "|".join(f"image-{i.image_id}" for i in images)
    return f"{base}?show={quote(shown, safe='-')}"


def describe_deletion(images: Sequence[OldImage]) -> str:
    """The confirmation text: exactly what will be deleted from OMERO."""
    lines = [
        f"This deletes {len(images)} image(s) in {len({i.fileset_id for i in images})} "
        f"fileset(s), {human_bytes(total_size(images))}, from OMERO for good:"
    ]
    for group in group_images(images):
        names = ", ".join(i.name for i in group.images)
        lines.append(
            f"- {group.group} / {group.project} / {group.dataset}: {group.count} image(s): {names}"
        )
    return "\n".join(lines)
