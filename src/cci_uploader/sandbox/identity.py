"""What the stand-in says it is, and user name + password login for its seeded accounts.

- ``IConfig.getClientConfigValues`` answers the ``omero.client.*`` keys any user may
  read (omero-server ``ConfigImpl.getClientConfigValues``); the stand-in's one key
  says it is the training sandbox.
- Glacier2 ``createSession(user, password)`` follows omero-blitz
  ``PermissionsVerifierI.checkPermissions``: when either value is a session's uuid
  the two must be equal (joining that session); otherwise the password is checked
  and a new session is created in the user's default group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import Glacier2
import omero
import omero.api

from cci_uploader.omero.server_identity import SANDBOX_KEY
from cci_uploader.sandbox._loud import loud

if TYPE_CHECKING:
    from cci_uploader.sandbox.state import SandboxState, Session


def _denied(reason: str) -> Glacier2.PermissionDeniedException:
    return Glacier2.PermissionDeniedException(reason=reason)


def login(state: SandboxState, user: str, password: str) -> Session:
    """The session a ``createSession(user, password)`` gets, or raise as the server does."""
    passwords = state.identity.passwords
    with state.lock:
        session = state.sessions.get(password) or state.sessions.get(user)
        if session is not None:
            if user != password:
                # PermissionsVerifierI: a session uuid may only be used as both values.
                raise _denied("username and password must be equal; use joinSession")
            if not session.alive:
                raise _denied("This session token has expired: copy a fresh token from OMERO.web.")
            return session
        if user == password:
            raise _denied("Unknown session token: copy a fresh token from OMERO.web.")
        account = next((u for u in state.users.values() if u.name == user), None)
        if account is None or not passwords.check(user, password):
            found = [] if account is None else [f"id={account.id}"]
            raise _denied(f"Password check failed for '{user}': {found}")
        token = state.new_token(account)
        return state.sessions[token]


class ConfigService(loud(omero.api.IConfig)):  # type: ignore[misc]
    """``IConfig``: only the client keys, which every user may read."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def getClientConfigValues(self, current: Any = None) -> dict[str, str]:
        return {SANDBOX_KEY: "true"} if self._ctx.state.identity.training else {}

    def getClientConfigValues_async(self, cb: Any, current: Any = None) -> None:
        cb.ice_response(self.getClientConfigValues(current))
