"""Logging in with an OMERO user name and password: the facility's clean-up account.

Users join their session with a token (:func:`.connection.connect`); an
unattended job has no one to paste one, so it logs in as a service account and
gets a session of its own each run.  The password is never logged or stored here.
"""

from __future__ import annotations

import logging

import Ice
from omero.gateway import BlitzGateway

from cci_uploader.omero.connection import (
    KEEPALIVE_SECONDS,
    Connection,
    _discard,
    _identified,
    server_url,
)
from cci_uploader.omero.errors import LoginFailed, ServerUnreachable

log = logging.getLogger(__name__)


def login(server: str, user: str, password: str) -> Connection:
    """Log in to ``server`` as ``user`` and return the new session's connection.

    Raises
    ------
    LoginFailed
        No user name or password was given, or OMERO refused them.
    ServerUnreachable
        Nothing answered at the address.
    """
    url = server_url(server)
    if not user.strip() or not password:
        raise LoginFailed(f"No user name or password was given for {server}.")
    # secure=True: stay on the connection the password went over; omero-py would
    # otherwise switch to the server's insecure router after logging in
    # (BlitzGateway._createSession -> setSecure -> client.createClient).
    gateway = BlitzGateway(username=user.strip(), passwd=password, host=url, secure=True)
    try:
        joined = gateway.connect()
    except Ice.SyscallException as exc:
        _discard(gateway)
        raise ServerUnreachable(
            f"No OMERO server answered at {server}. Check [omero] server in the facility "
            "config and the network connection."
        ) from exc
    if not joined:
        _discard(gateway)
        raise LoginFailed(
            f"OMERO at {server} refused the password of the account {user.strip()!r}: it is "
            "wrong, or the account does not exist or is locked."
        )
    gateway.c.enableKeepAlive(KEEPALIVE_SECONDS)
    log.info("logged in to %s as %s", url, user.strip())
    # The session's own uuid lets a dropped connection join it again.
    return _identified(Connection(gateway, server, gateway.c.getSessionId()))
