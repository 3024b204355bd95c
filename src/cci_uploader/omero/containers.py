"""Project (microscope) and Dataset (acquisition date): found if they exist, else created."""

from __future__ import annotations

import threading
from typing import Any

import omero
import omero.model
from omero.rtypes import rstring

from cci_uploader.omero import hql
from cci_uploader.omero._query import find
from cci_uploader.omero.connection import Connection, translate_errors

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
        found = _first_id(
            conn, hql.PROJECT_BY_NAME, name=name, owner=conn.user_id, group=conn.group_id
        )
        if found is not None:
            return found
        project = omero.model.ProjectI()
        project.setName(rstring(name))
        return int(_save(conn, project).getId().getValue())


def get_or_create_dataset(conn: Connection, project_id: int, name: str) -> int:
    """Return the id of Dataset ``name`` inside the Project, creating and linking it once."""
    with _create_lock:
        found = _first_id(
            conn, hql.DATASET_IN_PROJECT, project=project_id, name=name, owner=conn.user_id
        )
        if found is not None:
            return found
        dataset = omero.model.DatasetI()
        dataset.setName(rstring(name))
        link = omero.model.ProjectDatasetLinkI()
        link.setParent(omero.model.ProjectI(project_id, False))
        link.setChild(dataset)
        return int(_save(conn, link).getChild().getId().getValue())
