from __future__ import annotations

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer


def test_project_and_dataset_are_created_once(conn: om.Connection, sandbox: SandboxServer) -> None:
    project = om.get_or_create_project(conn, "LSM 880")
    assert om.get_or_create_project(conn, "LSM 880") == project
    dataset = om.get_or_create_dataset(conn, project, "2024-05-01")
    assert om.get_or_create_dataset(conn, project, "2024-05-01") == dataset
    assert len(sandbox.objects("Project")) == 1
    assert len(sandbox.objects("Dataset")) == 1
    [link] = sandbox.objects("ProjectDatasetLink")
    assert link.getParent().getId().getValue() == project
    assert link.getChild().getId().getValue() == dataset


def test_same_dataset_name_in_two_projects_is_two_datasets(
    conn: om.Connection, sandbox: SandboxServer
) -> None:
    first = om.get_or_create_project(conn, "LSM 880")
    second = om.get_or_create_project(conn, "Talos")
    assert om.get_or_create_dataset(conn, first, "2024-05-01") != om.get_or_create_dataset(
        conn, second, "2024-05-01"
    )
    assert len(sandbox.objects("Dataset")) == 2


def test_projects_are_per_group(conn: om.Connection, sandbox: SandboxServer) -> None:
    lab = om.get_or_create_project(conn, "LSM 880")
    conn.switch_group("Imaging Core")
    core = om.get_or_create_project(conn, "LSM 880")
    assert lab != core
    conn.switch_group("Sandbox Lab")
    assert om.get_or_create_project(conn, "LSM 880") == lab


def test_another_users_project_is_not_reused(sandbox: SandboxServer, token: str) -> None:
    colleague = sandbox.state.add_user("colleague", [sandbox.seed.lab_group])
    theirs = om.connect(sandbox.address, sandbox.new_token(colleague))
    mine = om.connect(sandbox.address, token)
    try:
        assert om.get_or_create_project(theirs, "LSM 880") != om.get_or_create_project(
            mine, "LSM 880"
        )
    finally:
        theirs.close()
        mine.close()
