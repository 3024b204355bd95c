"""Server permission rules (omero-server OmeroInterceptor, BasicACLVoter) in the stand-in.

Each test talks raw omero-py to the stand-in, as any client would, and names
the rule it checks.
"""

from __future__ import annotations

from collections.abc import Iterator

import omero
import pytest
from omero.gateway import BlitzGateway
from omero.rtypes import rstring

from cci_uploader.omero import hql
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.state import Group, User


@pytest.fixture
def join(sandbox: SandboxServer) -> Iterator[object]:
    opened: list[BlitzGateway] = []

    def _join(user: User, group: Group) -> BlitzGateway:
        gateway = BlitzGateway(host=sandbox.address)
        assert gateway.connect(sUuid=sandbox.new_token(user))
        gateway.SERVICE_OPTS.setOmeroGroup(group.id)
        opened.append(gateway)
        return gateway

    yield _join
    for gateway in opened:
        gateway.close(hard=False)


def _tag(gateway: BlitzGateway, text: str) -> int:
    tag = omero.model.TagAnnotationI()
    tag.setTextValue(rstring(text))
    saved = gateway.getUpdateService().saveAndReturnObject(tag, gateway.SERVICE_OPTS)
    return int(saved.getId().getValue())


def _project(gateway: BlitzGateway, name: str) -> int:
    project = omero.model.ProjectI()
    project.setName(rstring(name))
    saved = gateway.getUpdateService().saveAndReturnObject(project, gateway.SERVICE_OPTS)
    return int(saved.getId().getValue())


def _tag_link(project_id: int, tag_id: int) -> object:
    link = omero.model.ProjectAnnotationLinkI()
    link.setParent(omero.model.ProjectI(project_id, False))
    link.setChild(omero.model.TagAnnotationI(tag_id, False))
    return link


def _save_link(gateway: BlitzGateway, project_id: int, tag_id: int) -> None:
    link = _tag_link(project_id, tag_id)
    gateway.getUpdateService().saveAndReturnObject(link, gateway.SERVICE_OPTS)


def test_seed_has_all_four_levels_with_two_members_and_an_owner(sandbox: SandboxServer) -> None:
    seed, state = sandbox.seed, sandbox.state
    levels = {
        g.permissions
        for g in (seed.lab_group, seed.core_group, seed.open_group, seed.private_group)
    }
    assert levels == {"rw----", "rwr---", "rwra--", "rwrw--"}
    for group in state.groups.values():
        if group.id in (state.SYSTEM_GROUP, state.USER_GROUP, state.GUEST_GROUP):
            continue
        members = [u for u in state.users.values() if group.id in u.groups]
        assert len(members) >= 2 and group.owners, group.name


@pytest.mark.parametrize(
    ("group_attr", "refused"),
    [("lab_group", True), ("core_group", False), ("open_group", False)],
)
def test_rule_linking_to_another_members_tag_needs_the_annotate_right(
    sandbox: SandboxServer, join: object, group_attr: str, refused: bool
) -> None:
    # OmeroInterceptor.evaluateLinkages/neededRight: an annotation link to another
    # member's object needs ANNOTATE; rwr--- has none, rwra-- and rwrw-- have it.
    group = getattr(sandbox.seed, group_attr)
    colleague = join(sandbox.seed.colleague, group)  # type: ignore[operator]
    demo = join(sandbox.seed.demo_user, group)  # type: ignore[operator]
    tag_id = _tag(colleague, "Sample: x")
    project_id = _project(demo, "P")
    if refused:
        with pytest.raises(omero.SecurityViolation, match=r"Group is rwr---\. Cannot link"):
            _save_link(demo, project_id, tag_id)
        assert sandbox.objects("ProjectAnnotationLink") == []
    else:
        _save_link(demo, project_id, tag_id)
        assert len(sandbox.objects("ProjectAnnotationLink")) == 1


def test_rule_group_owner_is_exempt_from_the_link_rule(
    sandbox: SandboxServer, join: object
) -> None:
    # evaluateLinkages: isSupervisor (group owner) skips throwIfNotGranted.
    lab = sandbox.seed.lab_group
    colleague = join(sandbox.seed.colleague, lab)  # type: ignore[operator]
    leader = join(sandbox.seed.leader, lab)  # type: ignore[operator]
    tag_id = _tag(colleague, "Sample: x")
    project_id = _project(leader, "P")
    _save_link(leader, project_id, tag_id)
    assert len(sandbox.objects("ProjectAnnotationLink")) == 1


def test_rule_private_group_shows_nothing_of_others(sandbox: SandboxServer, join: object) -> None:
    # BasicACLVoter.allowLoad: rw---- grants the group no read.
    private = sandbox.seed.private_group
    colleague = join(sandbox.seed.colleague, private)  # type: ignore[operator]
    demo = join(sandbox.seed.demo_user, private)  # type: ignore[operator]
    leader = join(sandbox.seed.leader, private)  # type: ignore[operator]
    tag_id = _tag(colleague, "Sample: hidden")
    query = hql.TAG_BY_TEXT
    params = omero.sys.ParametersI()
    params.add("text", rstring("Sample: hidden"))
    params.addLong("group", private.id)
    assert demo.getQueryService().findAllByQuery(query, params, demo.SERVICE_OPTS) == []
    seen = leader.getQueryService().findAllByQuery(query, params, leader.SERVICE_OPTS)
    assert [t.getId().getValue() for t in seen] == [tag_id]
    project_id = _project(demo, "P")
    with pytest.raises(omero.SecurityViolation):
        _save_link(demo, project_id, tag_id)


def test_rule_objects_of_two_groups_cannot_be_linked(sandbox: SandboxServer, join: object) -> None:
    # OmeroInterceptor.throwIfGroupsDontMatch: "MIXED GROUP".
    demo_lab = join(sandbox.seed.demo_user, sandbox.seed.lab_group)  # type: ignore[operator]
    demo_core = join(sandbox.seed.demo_user, sandbox.seed.core_group)  # type: ignore[operator]
    tag_id = _tag(demo_core, "Sample: x")
    project_id = _project(demo_lab, "P")
    with pytest.raises(omero.GroupSecurityViolation, match="MIXED GROUP"):
        _save_link(demo_lab, project_id, tag_id)


def test_rule_a_group_the_user_is_not_in_is_refused_in_the_call_context(
    sandbox: SandboxServer, join: object
) -> None:
    demo = join(sandbox.seed.demo_user, sandbox.seed.other_group)  # type: ignore[operator]
    with pytest.raises(omero.SecurityViolation, match="not a member"):
        _project(demo, "P")


def test_rule_save_array_is_one_transaction(sandbox: SandboxServer, join: object) -> None:
    # UpdateImpl.saveArray runs in one transaction: one refused link saves nothing.
    lab = sandbox.seed.lab_group
    colleague = join(sandbox.seed.colleague, lab)  # type: ignore[operator]
    demo = join(sandbox.seed.demo_user, lab)  # type: ignore[operator]
    theirs = _tag(colleague, "Sample: theirs")
    mine = _tag(demo, "Sample: mine")
    project_id = _project(demo, "P")
    new_pairs = omero.model.MapAnnotationI()
    new_pairs.setMapValue([omero.model.NamedValue("k", "v")])
    first = omero.model.ProjectAnnotationLinkI()
    first.setParent(omero.model.ProjectI(project_id, False))
    first.setChild(new_pairs)
    links = [first, _tag_link(project_id, mine), _tag_link(project_id, theirs)]
    with pytest.raises(omero.SecurityViolation):
        demo.getUpdateService().saveArray(links, demo.SERVICE_OPTS)
    assert sandbox.objects("ProjectAnnotationLink") == []
    assert sandbox.objects("MapAnnotation") == []


def test_rule_a_duplicate_link_is_a_validation_error(sandbox: SandboxServer, join: object) -> None:
    # OMERO 5 schema: links are unique on (parent, child, owner).
    demo = join(sandbox.seed.demo_user, sandbox.seed.lab_group)  # type: ignore[operator]
    tag_id, project_id = _tag(demo, "Sample: x"), _project(demo, "P")
    _save_link(demo, project_id, tag_id)
    with pytest.raises(omero.ValidationException, match="unique"):
        _save_link(demo, project_id, tag_id)
    assert len(sandbox.objects("ProjectAnnotationLink")) == 1
