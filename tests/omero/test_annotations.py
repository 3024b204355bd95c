from __future__ import annotations

from pathlib import Path

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
