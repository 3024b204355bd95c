"""Project (microscope) and Dataset (acquisition date): found if they exist, else created.

Ids are remembered per connection and group, so a batch looks each container
up once.  A remembered Dataset may have been deleted since (in OMERO.web,
say): its use is checked by a query sent beside the import that follows
(:func:`dataset_for_import`), and a deleted one is created again.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import omero
import omero.model
from omero.rtypes import rstring

from cci_uploader.omero import hql
from cci_uploader.omero._query import begin_project, find
from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from cci_uploader.omero.connection import Connection

# Two workers must not both miss and both create the same container.
_create_lock = threading.Lock()


def _first_id(conn: Connection, query: str, **values: int | str) -> int | None:
    found = find(conn, query, "looking up containers", **values)
    return int(found[0].getId().getValue()) if found else None


def _save(conn: Connection, obj: Any) -> Any:
    with translate_errors("creating a container"):
        return conn.gateway.getUpdateService().saveAndReturnObject(obj, conn.context())


def get_or_create_project(conn: Connection, name: str) -> int:
    """Return the id of the user's Project ``name`` in the working group, creating it once."""
    with _create_lock:
        cached = conn.cached_id("Project", name)
        if cached is not None:
            return cached
        found = _first_id(
            conn, hql.PROJECT_BY_NAME, name=name, owner=conn.user_id, group=conn.group_id
        )
        if found is None:
            project = omero.model.ProjectI()
            project.setName(rstring(name))
            found = int(_save(conn, project).getId().getValue())
        conn.remember_id(found, "Project", name)
        return found


def get_or_create_dataset(conn: Connection, project_id: int, name: str) -> int:
    """Return the id of Dataset ``name`` inside the Project, creating and linking it once."""
    with _create_lock:
        cached = conn.cached_id("Dataset", project_id, name)
        if cached is not None:
            # Answered while importFileset is waited for; see dataset_for_import.
            check = begin_project(
                conn,
                hql.DATASET_STILL_LINKED,
                "checking the Dataset",
                project=project_id,
                dataset=cached,
            )
            conn.checks[cached] = (check, project_id, name)
            return cached
        found = _first_id(
            conn, hql.DATASET_IN_PROJECT, project=project_id, name=name, owner=conn.user_id
        )
        if found is None:
            dataset = omero.model.DatasetI()
            dataset.setName(rstring(name))
            link = omero.model.ProjectDatasetLinkI()
            link.setParent(omero.model.ProjectI(project_id, False))
            link.setChild(dataset)
            found = int(_save(conn, link).getChild().getId().getValue())
        conn.remember_id(found, "Dataset", project_id, name)
        return found


def dataset_for_import(conn: Connection, dataset_id: int) -> int:
    """The Dataset to import into for ``dataset_id``: itself, or the one replacing it.

    A remembered Dataset that is no longer in its Project (deleted since it
    was found) is replaced: its Project and it are found or created again,
    and later imports into the old id go to the new one.
    """
    while dataset_id in conn.replaced:
        dataset_id = conn.replaced[dataset_id]
    pending = conn.checks.pop(dataset_id, None)
    if pending is None:
        return dataset_id
    check, project_id, name = pending
    if check():
        return dataset_id
    project_name = conn.project_name(project_id)
    conn.forget_ids()
    if project_name is None:  # not ours to re-create: let the import say what is wrong
        return dataset_id
    fresh = get_or_create_dataset(conn, get_or_create_project(conn, project_name), name)
    conn.replaced[dataset_id] = fresh
    return fresh
