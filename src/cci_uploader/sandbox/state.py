"""The stand-in's in-memory world: users, groups, sessions and stored objects.

Objects are kept as ``omero.model`` instances with ids and details filled in,
exactly as the server would return them.  One lock guards everything; Ice
dispatches from several threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import omero
import omero.model
from omero.rtypes import rlong, rstring, rtime

from cci_uploader.sandbox.accounts import Identity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence


class Faults:
    """Failures a test can arm; each is one-shot unless said otherwise."""

    def __init__(self) -> None:
        self.cut_after_bytes: int | None = None
        self.corrupt_upload = False
        self.import_error: str | None = None
        self.import_delay_s = 0.0  # stays armed until reset
        self.repository_full = False  # stays armed until reset
        # Operation name -> seconds its next call takes (one-shot).
        self.hold: dict[str, float] = {}
        self.delete_files_fail = False
        # Operation name -> (calls to let through first, the server's exception).
        self.refusals: dict[str, tuple[int, Exception]] = {}

    def refuse(self, operation: str, error: Exception, *, after: int = 0) -> None:
        """Make the server raise ``error`` on the next call of ``operation``.

        ``after`` calls of it succeed first; then it raises once.
        """
        self.refusals[operation] = (after, error)

    def refusal(self, operation: str) -> Exception | None:
        """The exception armed for this call of ``operation``, if any (one-shot)."""
        armed = self.refusals.get(operation)
        if armed is None:
            return None
        after, error = armed
        if after > 0:
            self.refusals[operation] = (after - 1, error)
            return None
        del self.refusals[operation]
        return error

    def reset(self) -> None:
        """Disarm every fault."""
        self.__init__()  # type: ignore[misc]


@dataclass
class ImportTime:
    """How long the server works on an import after ``verifyUpload``: default no time.

    A real server reads every file with Bio-Formats, writes pyramids and
    thumbnails: a fixed cost per fileset plus a cost per byte, seconds per
    file on a facility server.  Set it (``SandboxServer.import_time``) to see
    the queue wait on the server.
    """

    per_fileset_s: float = 0.0
    per_byte_s: float = 0.0

    def seconds(self, size: int) -> float:
        """The time an import of ``size`` bytes takes."""
        return self.per_fileset_s + self.per_byte_s * size


@dataclass
class User:
    id: int
    name: str
    first_name: str
    last_name: str
    groups: list[int]
    default_group: int


@dataclass
class Group:
    id: int
    name: str
    permissions: str = "rwr---"
    # Group owners ("leaders"): exempt from the link rules of their group.
    owners: set[int] = field(default_factory=set)


@dataclass
class Session:
    """One OMERO session; every client joined with its token shares it, group included."""

    token: str
    user_id: int
    group_id: int
    alive: bool = True
    # Bytes received by this session's uploads, for the connection-cut fault.
    uploaded: int = 0
    # Open stateful services (ImportProcess, RawFileStore) by identity, which
    # block a group switch (omero-blitz SessionManagerI.checkStatefulServices).
    stateful: set[str] = field(default_factory=set)
    # Service calls of this session being dispatched right now.
    active_calls: int = 0


@dataclass
class StoredFile:
    """What the stand-in keeps of an uploaded file: its size and SHA-1, hashed on arrival.

    The bytes themselves are kept only when ``keep`` is set: for OME-TIFF,
    whose OME-XML names the images.  Other files need only their checksum,
    so a multi-gigabyte upload costs the stand-in no memory.
    """

    keep: bool = False
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    sha1: hashlib._Hash = field(default_factory=hashlib.sha1)
    # Looks at the bytes as they pass (a CZI's plate layout, sandbox/plates.py).
    sniffer: Any = None

    def write(self, data: bytes, position: int) -> None:
        """Take the next ``data``; uploads arrive in order, as OMERO's importers send them."""
        if position != self.size:
            raise omero.ApiUsageException(
                serverStackTrace="",
                serverExceptionClass="ApiUsageException",
                message=f"The OMERO stand-in accepts uploads in order only: expected offset "
                f"{self.size}, got {position}.",
            )
        self.sha1.update(data)
        self.size += len(data)
        if self.sniffer is not None:
            self.sniffer.feed(data)
        if self.keep:
            self.chunks.append(data)

    @property
    def data(self) -> bytes:
        """The file's bytes (only for files stored with ``keep``)."""
        if not self.keep:
            raise ValueError("this upload's bytes were not kept")
        if len(self.chunks) > 1:
            self.chunks = [b"".join(self.chunks)]
        return self.chunks[0] if self.chunks else b""

    def hexdigest(self) -> str:
        """SHA-1 of everything received."""
        return self.sha1.hexdigest()


class SandboxState:
    """Everything the stand-in knows; safe to share between Ice threads."""

    # Real OMERO's system groups; users are members of "user" as well.
    SYSTEM_GROUP, USER_GROUP, GUEST_GROUP = 0, 1, 2

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.now: Callable[[], dt.datetime] = now or (lambda: dt.datetime.now(dt.UTC))
        self.faults = Faults()
        self.identity = Identity()  # training-sandbox marker, seeded passwords
        self.import_time = ImportTime()  # how long imports take; none by default
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {
            self.SYSTEM_GROUP: Group(self.SYSTEM_GROUP, "system"),
            self.USER_GROUP: Group(self.USER_GROUP, "user"),
            self.GUEST_GROUP: Group(self.GUEST_GROUP, "guest"),
        }
        self.sessions: dict[str, Session] = {}
        self.objects: dict[str, dict[int, Any]] = {}
        self.files: dict[int, StoredFile] = {}
        self._next_id = 100
        self._transaction: list[tuple[str, int]] | None = None

    # -- ids, time, users -------------------------------------------------

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def now_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    def add_group(self, name: str, permissions: str = "rwr---") -> Group:
        group = Group(self.new_id(), name, permissions)
        self.groups[group.id] = group
        return group

    def add_user(
        self,
        name: str,
        groups: list[Group],
        first: str = "",
        last: str = "",
        owner_of: Sequence[Group] = (),
    ) -> User:
        ids = [g.id for g in groups]
        user = User(
            self.new_id(),
            name,
            first or name.title(),
            last or "User",
            [*ids, self.USER_GROUP],
            ids[0],
        )
        self.users[user.id] = user
        for group in owner_of:
            group.owners.add(user.id)
        return user

    def new_token(self, user: User, token: str | None = None) -> str:
        """Create a session for ``user``, as OMERO.web's token page would."""
        token = token or secrets.token_hex(16)
        with self.lock:
            self.sessions[token] = Session(token, user.id, user.default_group)
        return token

    def expire(self, token: str) -> None:
        """End a session as the server does when it times out."""
        with self.lock:
            self.sessions[token].alive = False

    # -- objects ----------------------------------------------------------

    def store(self, obj: Any, session: Session) -> Any:
        """Give ``obj`` an id and details (owner, group, creation time) and keep it."""
        with self.lock:
            obj.setId(rlong(self.new_id()))
            details = omero.model.DetailsI()
            details.setOwner(omero.model.ExperimenterI(session.user_id, False))
            details.setGroup(omero.model.ExperimenterGroupI(session.group_id, False))
            event = omero.model.EventI(self.new_id(), True)
            event.setTime(rtime(self.now_ms()))
            details.setCreationEvent(event)
            details.setPermissions(
                omero.model.PermissionsI(self.groups[session.group_id].permissions)
            )
            obj._details = details
            self.objects.setdefault(kind(obj), {})[obj.getId().getValue()] = obj
            if self._transaction is not None:
                self._transaction.append((kind(obj), obj.getId().getValue()))
            return obj

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Keep everything stored inside, or nothing if it raises.

        ``IUpdate.saveArray`` and friends run in one database transaction on
        the server (omero-server ``UpdateImpl.saveArray``, ``@Transactional``).
        """
        with self.lock:
            outer, self._transaction = self._transaction, []
            try:
                yield
            except BaseException:
                for name, obj_id in reversed(self._transaction):
                    self.objects.get(name, {}).pop(obj_id, None)
                raise
            finally:
                done, self._transaction = self._transaction, outer
                if outer is not None:
                    outer.extend(done)

    def all(self, kind_name: str) -> Iterator[Any]:
        return iter(list(self.objects.get(kind_name, {}).values()))

    def get(self, kind_name: str, obj_id: int) -> Any:
        try:
            return self.objects[kind_name][obj_id]
        except KeyError:
            raise omero.ValidationException(
                serverStackTrace="",
                serverExceptionClass="ValidationException",
                message=f"{kind_name}:{obj_id} does not exist",
            ) from None

    def delete(self, kind_name: str, obj_id: int) -> None:
        with self.lock:
            self.objects.get(kind_name, {}).pop(obj_id, None)


def kind(obj: Any) -> str:
    """Return the OMERO model class name of ``obj`` (``ProjectI`` -> ``Project``)."""
    name = type(obj).__name__
    return name[:-1] if name.endswith("I") else name


def owner_id(obj: Any) -> int:
    """Return the owner's experimenter id of a stored object."""
    return int(obj.getDetails().getOwner().getId().getValue())


def group_id(obj: Any) -> int:
    """Return the group id of a stored object."""
    return int(obj.getDetails().getGroup().getId().getValue())


def text(value: str) -> Any:
    """Wrap a string as an OMERO ``RString``."""
    return rstring(value)
