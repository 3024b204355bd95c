"""Every HQL query the app sends, in one place, parametrised.

The OMERO stand-in implements exactly these queries (and refuses any other),
so the tests prove the queries' parameters and results, and a new query
cannot slip in without the stand-in learning it.
"""

from __future__ import annotations

PROJECT_BY_NAME = (
    "select p from Project p"
    " where p.name = :name and p.details.owner.id = :owner and p.details.group.id = :group"
    " order by p.id"
)

DATASET_IN_PROJECT = (
    "select d from Dataset d join d.projectLinks l"
    " where l.parent.id = :project and d.name = :name and d.details.owner.id = :owner"
    " order by d.id"
)

# Images whose fileset holds a file with this name, size and SHA-1.
DUPLICATE_IMAGES = (
    "select distinct i.id from Image i join i.fileset fs join fs.usedFiles fe"
    " join fe.originalFile f"
    " where f.name = :name and f.size = :size and f.hash = :hash"
    " and f.hasher.value = :hasher and fs.details.group.id = :group"
)

# Values already used for one key in the client's key-value namespace.
VALUES_FOR_KEY = (
    "select distinct mv.value from MapAnnotation a join a.mapValue mv"
    " where a.ns = :ns and mv.name = :key and a.details.group.id = :group"
)

TAG_BY_TEXT = (
    "select t from TagAnnotation t"
    " where t.textValue = :text and t.details.group.id = :group order by t.id"
)


def normalise(query: str) -> str:
    """Collapse white space so equal queries compare equal."""
    return " ".join(query.split())
