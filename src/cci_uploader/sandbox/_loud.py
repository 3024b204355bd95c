"""Servant bases on which every operation fails loudly unless implemented.

Ice dispatches an AMD operation ``op`` to ``op_async(cb, *args, current)``
and a synchronous one to ``op(*args, current)``.  A servant that lacks the
method leaves an AMD caller waiting forever, so every operation of the
generated skeleton gets both forms here, raising an exception that names it.
"""

from __future__ import annotations

from typing import Any

import omero


class NotImplementedByStandIn(omero.InternalException):
    """Raised for operations and queries the OMERO stand-in does not support."""


def not_supported(what: str) -> NotImplementedByStandIn:
    """Build the exception for an unsupported operation or query."""
    return NotImplementedByStandIn(
        serverStackTrace="",
        serverExceptionClass="NotImplementedByStandIn",
        message=f"The OMERO stand-in does not implement {what}.",
    )


def _operations(skeleton: type) -> list[str]:
    names: set[str] = set()
    for klass in skeleton.__mro__:
        names.update(
            a[4:] for a in vars(klass) if a.startswith("_op_") and not a.startswith("_op_ice_")
        )
    return sorted(names)


def loud(skeleton: type) -> type:
    """Return a subclass of ``skeleton`` whose every operation fails loudly.

    Subclasses override the operations they implement; whichever form
    (sync or ``_async``) Ice expects is always present.
    """
    iface = skeleton.__name__
    namespace: dict[str, Any] = {}
    for op in _operations(skeleton):

        def sync(self: object, *args: object, _op: str = op) -> None:
            raise not_supported(f"{iface}.{_op}")

        def amd(self: object, cb: Any, *args: object, _op: str = op) -> None:
            cb.ice_exception(not_supported(f"{iface}.{_op}"))

        namespace[op] = sync
        namespace[f"{op}_async"] = amd
    return type(f"Loud{iface}", (skeleton,), namespace)
