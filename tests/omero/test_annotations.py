from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer


def _images(conn: om.Connection, tmp_path: Path, count: int) -> list[int]:
    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "2024-01-02")
    ids: list[int] = []
    for n in range(count):
        path = tmp_path / f"img{n}.czi"
        path.write_bytes(b"x" * (n + 1))
        *_, done = om.import_file(conn, [path], dataset)
        assert isinstance(done, om.Imported)
        ids.extend(done.image_ids)
    return ids


def _linked(sandbox: SandboxServer, image_id: int, kind: str) -> list[object]:
    return [
        link.getChild()
        for link in sandbox.objects("ImageAnnotationLink")
        if link.getParent().getId().getValue() == image_id
        and type(link.getChild()).__name__.startswith(kind)
    ]


def test_pairs_become_client_map_annotation_and_tags(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    ids = _images(conn, tmp_path, 2)
    om.annotate(conn, ids, [("Sample", "Mouse 12"), ("Folder", "run1")])
    for image_id in ids:
        [annotation] = _linked(sandbox, image_id, "MapAnnotation")
        assert annotation.getNs().getValue() == om.CLIENT_NS  # type: ignore[attr-defined]
        pairs = [(nv.name, nv.value) for nv in annotation.getMapValue()]  # type: ignore[attr-defined]
        assert pairs == [("Sample", "Mouse 12"), ("Folder", "run1")]
        tag_ids = {t.getId().getValue() for t in _linked(sandbox, image_id, "TagAnnotation")}  # type: ignore[attr-defined]
        assert len(tag_ids) == 2
    texts = sorted(t.getTextValue().getValue() for t in sandbox.objects("TagAnnotation"))
    assert texts == ["Folder: run1", "Sample: Mouse 12"]


def test_existing_tag_is_reused(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    first, second = _images(conn, tmp_path, 2)
    om.annotate(conn, [first], [("Sample", "A")])
    om.annotate(conn, [second], [("Sample", "A")])
    assert len(sandbox.objects("TagAnnotation")) == 1
    assert len(sandbox.objects("MapAnnotation")) == 2


def test_existing_values_for_key_in_group(conn: om.Connection, tmp_path: Path) -> None:
    ids = _images(conn, tmp_path, 1)
    om.annotate(conn, ids, [("Sample", "B"), ("Operator", "kim")])
    om.annotate(conn, ids, [("Sample", "A")])
    assert om.existing_values(conn, "Sample") == ["A", "B"]
    assert om.existing_values(conn, "Operator") == ["kim"]
    conn.switch_group("Imaging Core")
    assert om.existing_values(conn, "Sample") == []


def _tag_of(sandbox: SandboxServer, user: object, group: object, text: str, ns: str = "") -> int:
    """A tag owned by ``user`` in ``group``, made through the real protocol."""
    import omero
    from omero.gateway import BlitzGateway
    from omero.rtypes import rstring

    gateway = BlitzGateway(host=sandbox.address)
    assert gateway.connect(sUuid=sandbox.new_token(user))  # type: ignore[arg-type]
    try:
        tag = omero.model.TagAnnotationI()
        tag.setTextValue(rstring(text))
        if ns:
            tag.setNs(rstring(ns))
        saved = gateway.getUpdateService().saveAndReturnObject(
            tag,
            {"omero.group": str(group.id)},  # type: ignore[attr-defined]
        )
        return int(saved.getId().getValue())
    finally:
        gateway.close(hard=False)


def _tag_ids(sandbox: SandboxServer, image_id: int) -> set[int]:
    return {t.getId().getValue() for t in _linked(sandbox, image_id, "TagAnnotation")}  # type: ignore[attr-defined]


def test_another_members_tag_is_not_reused_in_a_read_only_group(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    # OmeroInterceptor: rwr--- refuses links to a colleague's tag, so the user gets their own.
    theirs = _tag_of(sandbox, sandbox.seed.colleague, sandbox.seed.lab_group, "Sample: A")
    [image] = _images(conn, tmp_path, 1)
    om.annotate(conn, [image], [("Sample", "A")])
    [mine] = _tag_ids(sandbox, image)
    assert mine != theirs
    assert sandbox.state.get("TagAnnotation", mine).getDetails().getOwner().getId().getValue() == (
        conn.user_id
    )


def test_another_members_tag_is_reused_where_the_group_allows_annotating(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    conn.switch_group("Imaging Core")  # rwra--
    theirs = _tag_of(sandbox, sandbox.seed.colleague, sandbox.seed.core_group, "Sample: A")
    [image] = _images(conn, tmp_path, 1)
    om.annotate(conn, [image], [("Sample", "A")])
    assert _tag_ids(sandbox, image) == {theirs}


def test_tag_sets_and_namespaced_tags_are_never_reused(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    demo, lab = sandbox.seed.demo_user, sandbox.seed.lab_group
    tag_set = _tag_of(sandbox, demo, lab, "Sample: A", "openmicroscopy.org/omero/insight/tagset")
    namespaced = _tag_of(sandbox, demo, lab, "Sample: A", "some.scheme/tags")
    [image] = _images(conn, tmp_path, 1)
    om.annotate(conn, [image], [("Sample", "A")])
    [used] = _tag_ids(sandbox, image)
    assert used not in (tag_set, namespaced)


def test_a_refused_tag_cannot_take_the_pairs_with_it(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    import omero

    [image] = _images(conn, tmp_path, 1)
    conn.fresh_images.clear()  # the careful steps: as for an image found as a duplicate
    refusal = omero.SecurityViolation(serverStackTrace="", serverExceptionClass="", message="no")
    sandbox.faults.refuse("saveArray", refusal, after=1)  # the pairs' call goes through
    with pytest.raises(om.AnnotationFailed, match="pairs were attached, but the tags"):
        om.annotate(conn, [image], [("Sample", "A")])
    [annotation] = _linked(sandbox, image, "MapAnnotation")
    assert [(nv.name, nv.value) for nv in annotation.getMapValue()] == [("Sample", "A")]  # type: ignore[attr-defined]
    assert _tag_ids(sandbox, image) == set()
    om.annotate(conn, [image], [("Sample", "A")])  # again: only the tag was missing
    assert len(_linked(sandbox, image, "MapAnnotation")) == 1
    assert len(_tag_ids(sandbox, image)) == 1


def test_annotating_again_never_puts_a_pair_or_tag_twice(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    [image] = _images(conn, tmp_path, 1)
    om.annotate(conn, [image], [("Sample", "A")])
    om.annotate(conn, [image], [("Sample", "A"), ("Grid", "3")])
    pairs = [
        (nv.name, nv.value)
        for a in _linked(sandbox, image, "MapAnnotation")
        for nv in a.getMapValue()  # type: ignore[attr-defined]
    ]
    assert sorted(pairs) == [("Grid", "3"), ("Sample", "A")]
    texts = sorted(
        sandbox.state.get("TagAnnotation", t).getTextValue().getValue()
        for t in _tag_ids(sandbox, image)
    )
    assert texts == ["Grid: 3", "Sample: A"]


def test_only_the_users_own_images_are_annotated(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    colleague = om.connect(sandbox.address, sandbox.new_token(sandbox.seed.colleague))
    try:
        [theirs] = _images(colleague, tmp_path, 1)
    finally:
        colleague.close()
    om.annotate(conn, [theirs], [("Sample", "A")])
    assert _linked(sandbox, theirs, "MapAnnotation") == []


def test_a_refused_new_tag_leaves_a_just_imported_image_its_pairs(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    import omero

    [image] = _images(conn, tmp_path, 1)
    assert image in conn.fresh_images  # the one-save path is taken first
    refusal = omero.SecurityViolation(serverStackTrace="", serverExceptionClass="", message="no")
    sandbox.faults.refuse("saveAndReturnObject", refusal)  # making the tag
    sandbox.faults.refuse("saveArray", refusal, after=1)  # the careful steps' tag links
    with pytest.raises(om.AnnotationFailed, match="pairs were attached, but the tags"):
        om.annotate(conn, [image], [("Sample", "A")])
    [annotation] = _linked(sandbox, image, "MapAnnotation")
    assert [(nv.name, nv.value) for nv in annotation.getMapValue()] == [("Sample", "A")]  # type: ignore[attr-defined]
    assert _tag_ids(sandbox, image) == set()
