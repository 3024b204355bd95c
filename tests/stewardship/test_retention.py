"""The 4-week rule on OMERO: which images are old, and deleting exactly their filesets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.omero.retention import DeleteFailed, delete_filesets, old_images
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.history import History
from cci_uploader.stewardship.reminder import (
    describe_deletion,
    filesets_by_group,
    group_images,
    web_link,
    whole_filesets,
)
from tests.stewardship.stewardship_helpers import Clock, copy_samples, put_image, upload


@pytest.fixture
def world(
    sandbox: SandboxServer, conn: om.Connection, clock: Clock, tmp_path: Path
) -> dict[str, int]:
    """Images of demo (two groups) and of another user, imported on different days."""
    ids = {}
    clock.days_ago(40)
    ids["lab_40d"] = put_image(conn, tmp_path, "a.czi", "LSM 980", "2026-01-01")
    ids["lab_40d_b"] = put_image(conn, tmp_path, "b.czi", "LSM 980", "2026-01-01")
    clock.days_ago(29)
    conn.switch_group("Imaging Core")
    ids["core_29d"] = put_image(conn, tmp_path, "c.czi", "Krios", "2026-02-02")
    clock.days_ago(27)
    ids["core_27d"] = put_image(conn, tmp_path, "d.czi", "Krios", "2026-02-02")
    conn.switch_group("Sandbox Lab")
    clock.days_ago(0)
    ids["lab_today"] = put_image(conn, tmp_path, "e.czi", "LSM 980", "2026-03-03")
    other = om.connect(sandbox.address, sandbox.new_token(sandbox.seed.other_user))
    clock.days_ago(60)
    ids["other_60d"] = put_image(other, tmp_path / "other", "f.czi", "LSM 980", "2026-01-01")
    other.close()
    clock.days_ago(0)
    return ids


def test_old_images_are_exactly_this_users_older_than_n_days_in_all_groups(
    conn: om.Connection, world: dict[str, int]
) -> None:
    found = {i.image_id for i in old_images(conn, 28)}
    assert found == {world["lab_40d"], world["lab_40d_b"], world["core_29d"]}
    assert {i.image_id for i in old_images(conn, 30)} == {world["lab_40d"], world["lab_40d_b"]}
    assert {i.image_id for i in old_images(conn, 26)} == found | {world["core_27d"]}


def test_injected_now_moves_the_limit(
    conn: om.Connection, world: dict[str, int], clock: Clock
) -> None:
    later = clock.real + dt.timedelta(days=2)  # two days on, the 27-day-old image is 29
    assert {i.image_id for i in old_images(conn, 28, now=later)} == {
        world["lab_40d"],
        world["lab_40d_b"],
        world["core_29d"],
        world["core_27d"],
    }


def test_reminder_groups_by_group_project_dataset_with_counts_and_sizes(
    conn: om.Connection, world: dict[str, int], sandbox: SandboxServer
) -> None:
    images = old_images(conn, 28)
    groups = group_images(images)
    assert [(g.group, g.project, g.dataset, g.count) for g in groups] == [
        ("Imaging Core", "Krios", "2026-02-02", 1),
        ("Sandbox Lab", "LSM 980", "2026-01-01", 2),
    ]
    sizes = {
        f.getName().getValue(): f.getSize().getValue() for f in sandbox.objects("OriginalFile")
    }
    assert groups[1].size == sizes["a.czi"] + sizes["b.czi"]
    link = web_link("https://omero.example.org/webclient", groups[1].images)
    assert link == f"https://omero.example.org/webclient/?show=dataset-{groups[1].dataset_id}"
    text = describe_deletion(images)
    assert "3 image(s) in 3 fileset(s)" in text
    assert "a.czi, b.czi" in text and "c.czi" in text and "d.czi" not in text


def test_delete_removes_those_filesets_and_nothing_else(
    conn: om.Connection, world: dict[str, int], sandbox: SandboxServer
) -> None:
    before = {k: len(sandbox.objects(k)) for k in ("Image", "Fileset", "OriginalFile")}
    images = old_images(conn, 28)
    result = delete_filesets(conn, filesets_by_group(images))
    gone = {world["lab_40d"], world["lab_40d_b"], world["core_29d"]}
    assert set(result.image_ids) == gone
    assert result.deleted["Fileset"] == 3 and result.deleted["OriginalFile"] == 3
    left = {i.getId().getValue() for i in sandbox.objects("Image")}
    assert left == set(world.values()) - gone
    after = {k: len(sandbox.objects(k)) for k in ("Image", "Fileset", "OriginalFile")}
    assert after == {k: n - 3 for k, n in before.items()}
    linked = {link.getChild().getId().getValue() for link in sandbox.objects("DatasetImageLink")}
    assert linked == left
    assert old_images(conn, 28) == []


def test_someone_elses_fileset_is_refused_and_nothing_is_deleted(
    conn: om.Connection, world: dict[str, int], sandbox: SandboxServer
) -> None:
    theirs = sandbox.state.get("Image", world["other_60d"]).getFileset().getId().getValue()
    before = len(sandbox.objects("Image"))
    with pytest.raises(DeleteFailed, match="not permitted"):
        delete_filesets(conn, {sandbox.seed.other_group.id: [theirs]})
    assert len(sandbox.objects("Image")) == before


def test_a_multi_image_fileset_goes_whole(
    conn: om.Connection, clock: Clock, samples: Path, tmp_path: Path, sandbox: SandboxServer
) -> None:
    [emd] = copy_samples(samples, tmp_path / "emd", "emd/fei_example_dpc_titles.emd")
    clock.days_ago(40)
    upload(conn, History(tmp_path / "h.sqlite3"), emd)
    clock.days_ago(0)
    images = old_images(conn, 28)
    by_fileset: dict[int, list[int]] = {}
    for image in images:
        by_fileset.setdefault(image.fileset_id, []).append(image.image_id)
    shared = next(ids for ids in by_fileset.values() if len(ids) > 1)
    first = next(i for i in images if i.image_id == shared[0])
    doomed = whole_filesets([first], images)
    assert sorted(i.image_id for i in doomed) == sorted(shared)
    result = delete_filesets(conn, filesets_by_group(doomed))
    assert sorted(result.image_ids) == sorted(shared)
    left = {i.getId().getValue() for i in sandbox.objects("Image")}
    assert left == {i.image_id for i in images} - set(shared)
