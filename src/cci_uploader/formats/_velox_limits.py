"""Limits of a Velox EMD file, checked on its HDF5 objects before any reader reads them.

Part of :mod:`.limits` (its size and nesting limits, in ``docs/limits.md``);
kept apart because it walks HDF5 with h5py's low-level objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cci_uploader.formats import limits

if TYPE_CHECKING:
    from pathlib import Path


def check_velox(handle: Any, path: Path) -> None:
    """Check every dataset under ``Data/<kind>/<id>/`` before anything reads it.

    A dataset may declare any shape while storing nothing (HDF5 fills
    unwritten chunks), so each declared size is compared with the bytes the
    file stores for it; the JSON metadata is also checked for size and nesting.
    Library errors are left to the readers, which say the file is damaged.
    The walk uses h5py's low-level objects: a Velox file of 18 images has 60
    members, and h5py's ``Group.values()`` costs more than all the checks.
    """
    import h5py

    data = handle.get("Data")
    if not isinstance(data, h5py.Group):
        return
    for _, kind in _members(data.id):
        if not isinstance(kind, h5py.h5g.GroupID):
            continue
        for name, item in _members(kind):
            members = _members(item) if isinstance(item, h5py.h5g.GroupID) else [(name, item)]
            for member, dataset in members:
                if isinstance(dataset, h5py.h5d.DatasetID):
                    _check_dataset(member, dataset, path)


def _members(group_id: Any) -> list[tuple[bytes, Any]]:
    """A group's members by name (h5py's order), each opened; a dangling link is left out.

    ``Group.values()`` leaves out the same members: its ``get`` answers None.
    """
    import h5py

    members = []
    for name in group_id:
        try:
            members.append((name, h5py.h5o.open(group_id, name)))
        except KeyError:
            continue
    return members


def _check_dataset(name: bytes, dataset: Any, path: Path) -> None:
    """Check one dataset, given as h5py's low-level ``DatasetID``."""
    import h5py

    shape = tuple(int(side) for side in dataset.shape)
    stored = int(dataset.get_storage_size())
    dtype = dataset.dtype
    if name == b"Metadata":
        declared = dtype.itemsize
        for side in shape:
            declared *= side
        if declared > limits.MAX_METADATA_BYTES:
            raise limits.too_large(
                path, "bytes of metadata in one image", declared, limits.MAX_METADATA_BYTES
            )
        if declared > max(stored, 1) * limits.MAX_EXPANSION:
            raise limits.hollow(path, declared, stored)
        if len(shape) == 2 and dtype.kind == "u" and dtype.itemsize == 1:
            limits.check_json(limits.strip_nul(bytes(h5py.Dataset(dataset)[:, 0])), path)
    elif len(shape) >= 2:
        # Velox stores images as (Y, X, frames): planes are the last axis.
        order = (*shape[2:], *shape[:2])
        limits.check_image(path, order, dtype.itemsize, stored)
