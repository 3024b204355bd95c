"""How omero-py's and Ice's exceptions become the app's own, with plain messages.

Every call into omero-py runs inside :func:`translate_errors`, so callers see
only the exceptions in :mod:`.errors`; :func:`unreachable` says why nothing
answered at a server address.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import Glacier2
import Ice
import omero

from cci_uploader.omero.errors import (
    ConnectionLost,
    OmeroError,
    PermissionRefused,
    ServerRefused,
    ServerUnreachable,
    SessionExpired,
    StorageFull,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger(__name__)


def _reason(exc: Any) -> str:
    """The server's message, on one line and bounded."""
    text = " ".join(str(getattr(exc, "message", "") or type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."


# What to do after each kind of server refusal (omero.ServerError subclasses).
_REFUSALS: tuple[tuple[type[Exception], type[ServerRefused], str], ...] = (
    (
        omero.SecurityViolation,
        PermissionRefused,
        "OMERO refused {action}: you do not have permission in this group ({reason}). "
        "Choose a group where you may add data, or ask the group owner.",
    ),
    (
        omero.ResourceError,
        StorageFull,
        "OMERO could not store the data while {action}: its storage is full or "
        "unavailable ({reason}). Tell the facility staff, and press Retry later.",
    ),
    (
        omero.OverUsageException,
        ServerRefused,
        "OMERO is overloaded and refused {action} ({reason}). Wait a few minutes, "
        "then press Retry.",
    ),
    (
        omero.ValidationException,
        ServerRefused,
        "OMERO refused the data while {action} as invalid ({reason}). Press Retry; "
        "if it happens again, send the log file to the facility staff.",
    ),
    (
        omero.ApiUsageException,
        ServerRefused,
        "OMERO refused a request while {action} ({reason}). Send the log file to the "
        "facility staff.",
    ),
    (
        omero.InternalException,
        ServerRefused,
        "OMERO had an internal error while {action} ({reason}). Press Retry; if it "
        "happens again, tell the facility staff.",
    ),
    (
        omero.ServerError,
        ServerRefused,
        "OMERO refused {action} ({reason}). Press Retry; if it happens again, tell "
        "the facility staff.",
    ),
)


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Turn omero-py and Ice exceptions into our own, with plain messages."""
    try:
        yield
    except OmeroError:
        raise
    except (
        omero.RemovedSessionException,
        omero.SessionTimeoutException,
        Ice.ObjectNotExistException,
        Glacier2.SessionNotExistException,
    ) as exc:
        raise SessionExpired() from exc
    except (
        Ice.ConnectionLostException,
        Ice.ConnectionRefusedException,
        Ice.TimeoutException,
        Ice.CommunicatorDestroyedException,
        Ice.SocketException,
    ) as exc:
        raise ConnectionLost(
            f"The connection to OMERO was lost while {action}. Check the network "
            "and press Retry; nothing partial was kept."
        ) from exc
    except omero.ServerError as exc:
        log.warning("OMERO refused %s", action, exc_info=True)
        for server_class, ours, message in _REFUSALS:
            if isinstance(exc, server_class):
                raise ours(message.format(action=action, reason=_reason(exc))) from exc
        raise  # unreachable: omero.ServerError is the last entry


def unreachable(server: str, url: str, exc: Exception) -> ServerUnreachable:
    """Say why nothing answered at ``server`` and what to check."""
    proto, _, rest = url.partition("://")
    host, _, port = rest.split("/", 1)[0].partition(":")
    where = f"Cannot reach the OMERO server at {server}"
    if isinstance(exc, Ice.DNSException):
        why = (
            f"the name {host!r} was not found. Check the server address in Settings; "
            "if the server is only reachable inside the university network, connect "
            "to the VPN first"
        )
    elif isinstance(exc, Ice.ConnectionRefusedException):
        why = (
            f"nothing accepts connections on port {port}. Check the port in Settings "
            "(OMERO uses 4064 for SSL, 4063 for plain TCP)"
        )
    elif isinstance(
        exc, Ice.SecurityException | Ice.ProtocolException | Ice.ConnectionLostException
    ):
        # Here, at the first call, a connection dropped at once is a wrong protocol.
        why = (
            f"port {port} does not speak OMERO over {proto.upper()} (the connection "
            "could not be set up). Check the address and port in Settings: HOST or "
            "HOST:4064 is SSL, tcp://HOST:4063 is plain TCP, wss://HOST/PATH websockets"
        )
    elif isinstance(exc, Ice.TimeoutException):
        why = (
            "it did not answer in time. Check that you are on the university network "
            f"or VPN, and that port {port} is the right one for {proto.upper()} "
            "(4064 SSL, 4063 plain TCP)"
        )
    else:
        why = (
            f"the network refused the connection ({type(exc).__name__}). Check your "
            "network connection or VPN, and the address in Settings"
        )
    return ServerUnreachable(f"{where}: {why}.")
