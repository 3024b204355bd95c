"""The stand-in's omero.cmd support: Delete2 of filesets only, anything else refused loudly."""

from __future__ import annotations

import omero
import omero.cmd
import pytest
from omero.gateway import BlitzGateway

from cci_uploader.sandbox import SandboxServer


@pytest.fixture
def gateway(sandbox: SandboxServer, token: str) -> BlitzGateway:
    gw = BlitzGateway(host=sandbox.address)
    assert gw.connect(sUuid=token)
    yield gw
    gw.close(hard=False)


@pytest.mark.parametrize(
    "request_",
    [
        omero.cmd.Delete2(targetObjects={"Image": [1]}),
        omero.cmd.Chgrp2(targetObjects={"Fileset": [1]}, groupId=5),
    ],
    ids=["delete images", "chgrp"],
)
def test_other_commands_fail_loudly(gateway: BlitzGateway, request_: object) -> None:
    handle = gateway.c.sf.submit(request_)
    response = handle.getResponse()
    handle.close()
    assert isinstance(response, omero.cmd.ERR)
    assert "stand-in does not implement" in response.parameters["message"]


def test_missing_fileset_is_an_error_response(gateway: BlitzGateway) -> None:
    handle = gateway.c.sf.submit(omero.cmd.Delete2(targetObjects={"Fileset": [999999]}))
    response = handle.getResponse()
    handle.close()
    assert isinstance(response, omero.cmd.ERR)
    assert "does not exist" in response.parameters["message"]
