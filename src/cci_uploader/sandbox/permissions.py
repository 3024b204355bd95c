"""Who may see and link what: OMERO's group permission rules.

Mirrored from omero-server:

- Reading (``ome/security/basic/BasicACLVoter.allowLoad``): a member sees
  every object of a group whose permissions grant the group read
  (``rwr---``, ``rwra--``, ``rwrw--``); in a private group (``rw----``)
  only their own, except the group's owners, who see all.
- Linking (``ome/security/basic/OmeroInterceptor.evaluateLinkages``,
  ``neededRight``, ``throwIfNotGranted``): every object a new object points
  to must be in the current group ("MIXED GROUP" otherwise), and another
  member's object needs the group right ANNOTATE for annotation links and
  WRITE for any other link.  ``rwra--`` grants annotate, ``rwrw--`` write
  (which includes annotate); group owners are exempt.
- Link tables are unique on (parent, child, owner): a second identical link
  is refused (OMERO 5 schema, ``*annotationlink_parent_child_owner`` unique
  constraints), as a ``ValidationException``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import omero

from cci_uploader.sandbox.state import SandboxState, group_id, kind, owner_id

if TYPE_CHECKING:
    from collections.abc import Iterable


def _perms(state: SandboxState, group: int) -> str:
    return state.groups[group].permissions


def group_may(state: SandboxState, group: int, right: str) -> bool:
    """Whether the group role has ``right`` ("read", "annotate", "write") in ``group``."""
    perms = _perms(state, group)  # e.g. "rwra--": user rw, group ra, world --
    granted = {
        "read": perms[2] == "r",
        "annotate": perms[3] in ("a", "w"),
        "write": perms[3] == "w",
    }
    return granted[right]


def is_group_owner(state: SandboxState, user: int, group: int) -> bool:
    """Whether ``user`` owns (leads) ``group``."""
    return user in state.groups[group].owners


def can_see(state: SandboxState, user: int, obj: Any) -> bool:
    """``BasicACLVoter.allowLoad`` for a member of the object's group."""
    group = group_id(obj)
    if group not in state.users[user].groups:
        return False
    return (
        owner_id(obj) == user
        or is_group_owner(state, user, group)
        or group_may(state, group, "read")
    )


def visible(state: SandboxState, user: int, objects: Iterable[Any]) -> list[Any]:
    """The objects of ``objects`` that ``user`` may read."""
    return [o for o in objects if can_see(state, user, o)]


def _violation(message: str) -> omero.SecurityViolation:
    return omero.SecurityViolation(
        serverStackTrace="",
        serverExceptionClass="ome.conditions.SecurityViolation",
        message=message,
    )


def check_link(state: SandboxState, user: int, group: int, link: Any, linked: Any) -> None:
    """Refuse, as ``evaluateLinkages`` does, a new ``link`` pointing at ``linked``."""
    where = f"{kind(linked)}I:{linked.getId().getValue()}"
    if group_id(linked) != group:
        raise omero.GroupSecurityViolation(
            serverStackTrace="",
            serverExceptionClass="ome.conditions.GroupSecurityViolation",
            message=f"MIXED GROUP: {kind(link)}I(group={group}) and {where}"
            f"(group={group_id(linked)}) cannot be linked.",
        )
    if not can_see(state, user, linked):
        raise _violation(f"Cannot read {where}")
    if owner_id(linked) == user or is_group_owner(state, user, group):
        return
    right = "annotate" if kind(link).endswith("AnnotationLink") else "write"
    if not group_may(state, group, right):
        raise _violation(f"Group is {_perms(state, group)}. Cannot link to object: {where}")


def check_unique_link(state: SandboxState, user: int, link: Any) -> None:
    """Refuse a link whose (parent, child, owner) already exists."""
    parent = link.getParent().getId().getValue()
    child = link.getChild().getId().getValue()
    for other in state.all(kind(link)):
        if (
            other.getParent().getId().getValue() == parent
            and other.getChild().getId().getValue() == child
            and owner_id(other) == user
        ):
            raise omero.ValidationException(
                serverStackTrace="",
                serverExceptionClass="ome.conditions.ValidationException",
                message=f"duplicate key value violates unique constraint: {kind(link)} "
                f"(parent={parent}, child={child}, owner={user}) already exists",
            )
