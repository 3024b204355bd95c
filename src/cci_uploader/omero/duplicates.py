"""The duplicate check of many files in one query, for a batch.

:func:`.transfer.find_duplicate` asks once per file; over a network that is
a round trip each.  :func:`find_duplicates` asks for a chunk of files at
once, by SHA-1, and answers each file as ``find_duplicate`` would.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cci_uploader.omero import hql
from cci_uploader.omero._query import project
from cci_uploader.omero.client_paths import stored_name
from cci_uploader.omero.transfer import HASHER

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.omero.connection import Connection

# Bounded parameter lists: one query per this many distinct checksums.
HASHES_PER_QUERY = 200

Candidate = tuple[Path, str, int]  # path, SHA-1, size


def find_duplicates(conn: Connection, files: Sequence[Candidate]) -> list[list[int]]:
    """For each ``(path, sha1, size)``, the images ``find_duplicate`` would return.

    Images in the working group whose fileset holds a file with the name
    OMERO stores for ``path`` (:func:`stored_name`), this size and this SHA-1;
    one query per :data:`HASHES_PER_QUERY` distinct checksums.
    """
    hashes = sorted({sha1 for _, sha1, _ in files})
    found: dict[tuple[str, int, str], set[int]] = {}
    for start in range(0, len(hashes), HASHES_PER_QUERY):
        rows = project(
            conn,
            hql.DUPLICATES_BY_HASH,
            "checking for duplicates",
            hashes=hashes[start : start + HASHES_PER_QUERY],
            hasher=HASHER,
            group=conn.group_id,
        )
        for image_id, name, size, sha1 in rows:
            found.setdefault((str(name), int(size), str(sha1)), set()).add(int(image_id))
    return [sorted(found.get((stored_name(p), size, sha1), ())) for p, sha1, size in files]
