"""What a joined client carries into every servant: its session and the shared state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import omero

if TYPE_CHECKING:
    from cci_uploader.sandbox.registry import Registry
    from cci_uploader.sandbox.state import SandboxState, Session


@dataclass
class ClientContext:
    """One joined client: its session (and through it, its working group)."""

    state: SandboxState
    registry: Registry
    session: Session
    category: str

    @property
    def group_id(self) -> int:
        # The group belongs to the session, shared by every client joined with
        # its token (omero-server SessionManagerImpl.setSecurityContext sets it
        # on the session context, not on the client).
        return self.session.group_id

    def group_for(self, current: Any) -> int:
        """Group a call works in: ``omero.group`` in the call context, else the session's.

        A group the user is not a member of is refused, as the server's
        ``BasicSecurityWrapper``/``SecuritySystem`` login check does.
        """
        value = (current.ctx or {}).get("omero.group") if current is not None else None
        if value in (None, "", "-1"):
            return self.group_id
        group = int(value)
        if group not in self.state.users[self.session.user_id].groups:
            raise omero.SecurityViolation(
                serverStackTrace="",
                serverExceptionClass="ome.conditions.SecurityViolation",
                message=f"User {self.session.user_id} is not a member of group {group}",
            )
        return group
