"""Run the app's parametrised HQL (from :mod:`.hql`) in the working group."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import omero
from omero.rtypes import rlist, rlong, rstring, rtime

from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from cci_uploader.omero.connection import Connection

Value = int | str | dt.datetime | Iterable[int] | Iterable[str]


def _rtype(value: Value) -> Any:
    if isinstance(value, bool):
        raise TypeError("HQL parameters take ids, text, times or id lists")
    if isinstance(value, int):
        return rlong(value)
    if isinstance(value, str):
        return rstring(value)
    if isinstance(value, dt.datetime):
        return rtime(int(value.timestamp() * 1000))
    items: list[int | str] = list(value)
    return rlist([rstring(i) if isinstance(i, str) else rlong(i) for i in items])


def parameters(**values: Value) -> Any:
    """Build ``omero.sys.ParametersI`` from keyword values."""
    params = omero.sys.ParametersI()
    for key, value in values.items():
        params.add(key, _rtype(value))
    return params


def find(conn: Connection, query: str, action: str, **values: Value) -> list[Any]:
    """Objects returned by ``query`` (``IQuery.findAllByQuery``)."""
    with translate_errors(action):
        result: list[Any] = conn.gateway.getQueryService().findAllByQuery(
            query, parameters(**values), conn.context()
        )
    return result


def _context(conn: Connection, all_groups: bool) -> dict[str, str]:
    opts = conn.context()  # the working group, never the session's
    if all_groups:
        opts["omero.group"] = "-1"  # read across every group the user belongs to
    return opts


def project(
    conn: Connection, query: str, action: str, *, all_groups: bool = False, **values: Value
) -> list[list[Any]]:
    """Rows of unwrapped values returned by a projection query.

    With ``all_groups`` the query reads across all of the user's groups
    (``omero.group = -1``), else in the working group.
    """
    with translate_errors(action):
        rows = conn.gateway.getQueryService().projection(
            query, parameters(**values), _context(conn, all_groups)
        )
    return [[None if cell is None else cell.getValue() for cell in row] for row in rows]


def begin_project(
    conn: Connection, query: str, action: str, **values: Value
) -> Callable[[], list[list[Any]]]:
    """Send a projection query now; the function returned waits for its rows.

    For a question whose answer is needed only later: it travels beside
    other requests instead of costing a round trip of its own.
    """
    service = conn.gateway.getQueryService()
    with translate_errors(action):
        pending = service.begin_projection(query, parameters(**values), _ctx=_context(conn, False))

    def rows() -> list[list[Any]]:
        with translate_errors(action):
            result = service.end_projection(pending)
        return [[None if cell is None else cell.getValue() for cell in row] for row in result]

    return rows
