"""Key-value pairs on images: a MapAnnotation OMERO.web can edit, plus a tag per pair.

Pairs and tags are attached in separate steps, so a refused tag cannot take
the pairs with it, and each step adds only what is missing: running it again
(a Retry, or a duplicate found on a later run) never puts the same pair or
tag on an image twice.

Images this connection has just imported are the user's and carry nothing
yet: their pairs and tags go on in one save, without reading first, to tags
whose ids the connection remembers.  Should that save be refused (a
remembered tag deleted meanwhile, say), the careful steps above run instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import omero
import omero.model
from omero.rtypes import rstring

from cci_uploader.namespaces import CLIENT_NS as CLIENT_NS
from cci_uploader.omero import hql
from cci_uploader.omero._query import find, project
from cci_uploader.omero.errors import (
    AnnotationFailed,
    ConnectionLost,
    OmeroError,
    PermissionRefused,
    SessionExpired,
    StorageFull,
)
from cci_uploader.omero.translation import translate_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.omero.connection import Connection

log = logging.getLogger(__name__)

Pair = tuple[str, str]


def tag_text(key: str, value: str) -> str:
    """The text of the tag that mirrors one pair."""
    return f"{key}: {value}"


def existing_values(conn: Connection, key: str) -> list[str]:
    """Values already used for ``key`` in the working group, for the value picker."""
    rows = project(
        conn,
        hql.VALUES_FOR_KEY,
        "loading existing values",
        ns=CLIENT_NS,
        key=key,
        group=conn.group_id,
    )
    return sorted({str(row[0]) for row in rows if row and row[0] is not None})


def _may_link(conn: Connection, tag: Any) -> bool:
    """Whether OMERO lets this user link ``tag`` (OmeroInterceptor.evaluateLinkages).

    Never a tag set or another namespaced tag: those belong to someone's scheme.
    Their own tag always; another member's only where the group grants
    annotate (read-annotate, read-write) or to the group's owner.
    """
    ns = tag.getNs()
    if ns is not None and ns.getValue():
        return False
    details = tag.getDetails()
    if details.getOwner().getId().getValue() == conn.user_id:
        return True
    if conn.group_id in conn.owner_of:
        return True
    perms = details.getPermissions()
    return perms is not None and bool(perms.isGroupAnnotate() or perms.isGroupWrite())


def _tag_id(conn: Connection, text: str) -> int | None:
    found = find(conn, hql.TAG_BY_TEXT, "looking up tags", text=text, group=conn.group_id)
    usable = [t for t in found if _may_link(conn, t)]
    own = [t for t in usable if t.getDetails().getOwner().getId().getValue() == conn.user_id]
    chosen = (own or usable or [None])[0]
    return None if chosen is None else int(chosen.getId().getValue())


def _own(conn: Connection, image_ids: Sequence[int]) -> list[int]:
    rows = project(conn, hql.IMAGE_OWNERS, "checking image owners", ids=sorted(set(image_ids)))
    return sorted(int(i) for i, owner in rows if int(owner) == conn.user_id)


def _link(image_id: int, child: Any) -> Any:
    link = omero.model.ImageAnnotationLinkI()
    link.setParent(omero.model.ImageI(image_id, False))
    link.setChild(child)
    return link


def attach_pairs(conn: Connection, image_ids: Sequence[int], pairs: Sequence[Pair]) -> int:
    """Give each image the pairs it lacks, as one new client MapAnnotation; return images done."""
    rows = project(conn, hql.IMAGE_PAIRS, "reading key-value pairs", ids=image_ids, ns=CLIENT_NS)
    present: dict[int, set[Pair]] = {}
    for image_id, key, value in rows:
        present.setdefault(int(image_id), set()).add((str(key), str(value)))
    links: list[Any] = []
    for image_id in image_ids:
        missing = [p for p in dict.fromkeys(pairs) if p not in present.get(image_id, set())]
        if missing:
            annotation = omero.model.MapAnnotationI()
            annotation.setNs(rstring(CLIENT_NS))
            annotation.setMapValue([omero.model.NamedValue(k, v) for k, v in missing])
            links.append(_link(image_id, annotation))
    if links:
        with translate_errors("adding key-value pairs"):
            conn.gateway.getUpdateService().saveArray(links, conn.context())
    return len(links)


def attach_tags(conn: Connection, image_ids: Sequence[int], pairs: Sequence[Pair]) -> int:
    """Link each image to a tag per pair it lacks; return how many links were made."""
    rows = project(conn, hql.IMAGE_TAGS, "reading tags", ids=image_ids)
    present: dict[int, set[str]] = {}
    for image_id, text in rows:
        present.setdefault(int(image_id), set()).add(str(text))
    update = conn.gateway.getUpdateService()
    links: list[Any] = []
    for key, value in dict.fromkeys(pairs):
        text = tag_text(key, value)
        lacking = [i for i in image_ids if text not in present.get(i, set())]
        if not lacking:
            continue
        tag_id = _tag_id(conn, text)
        if tag_id is None:
            tag = omero.model.TagAnnotationI()
            tag.setTextValue(rstring(text))
            with translate_errors("creating a tag"):
                tag_id = int(update.saveAndReturnObject(tag, conn.context()).getId().getValue())
        links.extend(_link(i, omero.model.TagAnnotationI(tag_id, False)) for i in lacking)
    if links:
        with translate_errors("adding tags"):
            update.saveArray(links, conn.context())
    return len(links)


def _remembered_tag(conn: Connection, text: str) -> int:
    """A tag with ``text`` the user may link, created if there is none; remembered."""
    cached = conn.cached_id("Tag", text)
    if cached is not None:
        return cached
    found = _tag_id(conn, text)
    if found is None:
        tag = omero.model.TagAnnotationI()
        tag.setTextValue(rstring(text))
        with translate_errors("creating a tag"):
            saved = conn.gateway.getUpdateService().saveAndReturnObject(tag, conn.context())
        found = int(saved.getId().getValue())
    conn.remember_id(found, "Tag", text)
    return found


def attach_new(
    conn: Connection,
    image_ids: Sequence[int],
    pairs: Sequence[Pair],
    tags: Sequence[int],
    also: Sequence[Any] = (),
) -> None:
    """Give images without annotations their pairs and these tags, in one save.

    ``also`` are more new links saved in the same request (one round trip).
    """
    links: list[Any] = list(also)
    for image_id in image_ids:
        annotation = omero.model.MapAnnotationI()
        annotation.setNs(rstring(CLIENT_NS))
        annotation.setMapValue([omero.model.NamedValue(k, v) for k, v in pairs])
        links.append(_link(image_id, annotation))
    for tag_id in tags:
        tag = omero.model.TagAnnotationI(tag_id, False)
        links.extend(_link(i, tag) for i in image_ids)
    with translate_errors("adding key-value pairs and tags"):
        conn.gateway.getUpdateService().saveArray(links, conn.context())


def _annotate_fresh(
    conn: Connection, image_ids: Sequence[int], pairs: Sequence[Pair], also: Sequence[Any]
) -> bool:
    """Annotate just-imported images in one save; False if the careful steps must run.

    A tag that cannot be found or made, or a save refused for another reason
    than permission or storage (a remembered tag deleted meanwhile), leaves
    the work to the careful steps, which say what could and could not be attached.
    """
    try:
        tags = [_remembered_tag(conn, tag_text(k, v)) for k, v in pairs]
    except (SessionExpired, ConnectionLost):
        raise
    except OmeroError:
        log.warning("a tag could not be found or made; step by step now", exc_info=True)
        return False
    try:
        attach_new(conn, image_ids, pairs, tags, also)
    except (SessionExpired, ConnectionLost):
        raise
    except (PermissionRefused, StorageFull) as exc:
        # The careful steps would be refused alike; nothing was saved (one transaction).
        raise AnnotationFailed(f"the key-value pairs could not be attached: {exc}") from exc
    except OmeroError:
        log.warning("saving pairs and tags together failed; step by step now", exc_info=True)
        conn.forget_ids("Tag")
        return False
    return True


def annotate(
    conn: Connection, image_ids: Sequence[int], pairs: Sequence[Pair], also: Sequence[Any] = ()
) -> bool:
    """Give the user's own images among ``image_ids`` the ``pairs`` and their tags.

    ``also`` are new links for just-imported images, saved in the same
    request as their pairs where that can be done; returns whether they were
    (else the caller saves them on their own).

    Raises
    ------
    AnnotationFailed
        Pairs or tags could not be attached; the message says which and why.
    SessionExpired
        The session ended; attaching again later adds what is missing.
    """
    if not image_ids or not pairs:
        return False
    pairs = list(dict.fromkeys(pairs))
    fresh = [i for i in dict.fromkeys(image_ids) if i in conn.fresh_images]
    conn.fresh_images.difference_update(fresh)  # annotated now, or read from now on
    saved = bool(fresh) and _annotate_fresh(conn, fresh, pairs, also)
    if saved:
        image_ids = [i for i in image_ids if i not in fresh]
        if not image_ids:
            return True
    try:
        mine = _own(conn, image_ids)
        if not mine:
            return saved
        attach_pairs(conn, mine, pairs)
    except SessionExpired:
        raise
    except OmeroError as exc:
        raise AnnotationFailed(f"the key-value pairs could not be attached: {exc}") from exc
    try:
        attach_tags(conn, mine, pairs)
    except SessionExpired:
        raise
    except OmeroError as exc:
        raise AnnotationFailed(
            f"the key-value pairs were attached, but the tags could not be: {exc}"
        ) from exc
    return saved
