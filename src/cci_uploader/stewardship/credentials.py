"""The clean-up account's password, in the operating system's credential store.

On Windows that is the Credential Manager of the Windows account the scheduled
task runs as (through ``keyring``).  The password is set once with
``cci-uploader cleanup --set-password`` and read at each run; it is never in a
file the app writes, a log line or a command line.  It is stored per account
and server, so a sandbox password is never sent to the facility's server.
"""

from __future__ import annotations

import keyring
import keyring.errors

from cci_uploader.omero.connection import server_url

SERVICE = "cci-uploader clean-up"


class CredentialError(Exception):
    """The credential store cannot be used; the message says what to do."""


def _key(account: str, server: str) -> str:
    return f"{account}@{server_url(server)}"


def stored_password(account: str, server: str) -> str | None:
    """The password stored for ``account`` on ``server``; None when there is none."""
    try:
        return keyring.get_password(SERVICE, _key(account, server))
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"The credential store of this Windows account cannot be read ({exc}). "
            "Run the clean-up as an account that has one."
        ) from exc


def store_password(account: str, server: str, password: str) -> None:
    """Keep ``password`` for ``account`` on ``server`` in the credential store."""
    try:
        keyring.set_password(SERVICE, _key(account, server), password)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"The password could not be stored in this account's credential store ({exc})."
        ) from exc


def where() -> str:
    """The name of the credential store in use, for messages."""
    backend = keyring.get_keyring()
    return str(getattr(backend, "name", type(backend).__name__))
