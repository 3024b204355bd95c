"""The stand-in says when it is the training sandbox, and lets seeded accounts log in."""

from __future__ import annotations

import pytest
from omero.gateway import BlitzGateway

from cci_uploader import omero as om
from cci_uploader.omero.password_login import login
from cci_uploader.sandbox import (
    DEMO_PASSWORD,
    DEMO_TOKEN,
    SERVICE_ACCOUNT,
    SERVICE_PASSWORD,
    SandboxServer,
)


def test_the_training_sandbox_says_so_and_the_facility_stand_in_does_not(
    training_sandbox: SandboxServer, sandbox: SandboxServer
) -> None:
    training = om.connect(training_sandbox.address, DEMO_TOKEN)
    facility = om.connect(sandbox.address, sandbox.new_token())
    try:
        assert training.is_sandbox is True
        assert facility.is_sandbox is False
        # What the adapter reads: a client config value any user may read.
        assert training.gateway.getConfigService().getClientConfigValues() == {
            "omero.client.cci_uploader.training_sandbox": "true"
        }
        assert facility.gateway.getConfigService().getClientConfigValues() == {}
    finally:
        training.close()
        facility.close()


def test_the_service_account_logs_in_with_its_password_into_a_session_of_its_own(
    sandbox: SandboxServer,
) -> None:
    conn = login(sandbox.address, SERVICE_ACCOUNT, SERVICE_PASSWORD)
    try:
        assert conn.user_name == SERVICE_ACCOUNT
        groups = {g.name for g in conn.list_groups()}
        # A member of every group (an owner of the private one), to find anyone's files.
        assert groups == {"Sandbox Lab", "Imaging Core", "Open Lab", "Private Lab", "Other Lab"}
        assert conn.is_alive()
    finally:
        conn.close()
    again = login(sandbox.address, SERVICE_ACCOUNT, SERVICE_PASSWORD)
    try:  # every login is a new session, as on a real server
        assert again.gateway.getEventContext().sessionUuid != DEMO_TOKEN
    finally:
        again.close()
    demo = login(sandbox.address, "demo", DEMO_PASSWORD)
    demo.close()


@pytest.mark.parametrize(
    ("user", "password"),
    [
        (SERVICE_ACCOUNT, "wrong"),
        (SERVICE_ACCOUNT, ""),
        ("nobody", SERVICE_PASSWORD),
        ("other", "other"),  # seeded without a password: no password opens it
    ],
)
def test_a_wrong_password_is_refused(sandbox: SandboxServer, user: str, password: str) -> None:
    with pytest.raises(om.LoginFailed, match=r"refused the password|No user name or password"):
        login(sandbox.address, user, password)


def test_a_token_joins_only_as_both_user_name_and_password(sandbox: SandboxServer) -> None:
    token = sandbox.new_token()
    # omero-blitz PermissionsVerifierI: a session uuid with another password is refused.
    gateway = BlitzGateway(username=token, passwd="something else", host=sandbox.address)
    assert not gateway.connect()
    gateway.close(hard=False)
    gateway = BlitzGateway(username="demo", passwd=token, host=sandbox.address)
    assert not gateway.connect()
    gateway.close(hard=False)
    om.connect(sandbox.address, token).close()  # the ordinary join still works
