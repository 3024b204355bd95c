"""Start and stop the OMERO stand-in on 127.0.0.1, over real Ice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import Ice
import omero
import omero.all
import omero.ObjectFactoryRegistrar
import omero.rtypes

from cci_uploader.sandbox.registry import Registry
from cci_uploader.sandbox.router import Router
from cci_uploader.sandbox.state import Faults, Group, SandboxState, User
from cci_uploader.sandbox.tls import make_identity

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable
    from types import TracebackType

DEMO_TOKEN = "sandbox-demo-token"
# Seeded accounts that log in with a user name and password (the demo user too).
DEMO_PASSWORD = "sandbox-demo"
SERVICE_ACCOUNT, SERVICE_PASSWORD = "cleanup-service", "sandbox-cleanup"


@dataclass(frozen=True)
class Seed:
    """The users and groups every sandbox starts with.

    ``demo`` is a member of one group of each permission level, with
    ``colleague`` beside them and ``leader`` as group owner; ``other`` is in
    a group of their own (with ``colleague``), so the demo user cannot see it.
    """

    demo_user: User
    other_user: User
    colleague: User
    leader: User
    lab_group: Group  # read-only, the demo user's default
    core_group: Group  # read-annotate
    open_group: Group  # read-write
    private_group: Group  # private
    other_group: Group
    service_account: User


PROTOCOLS = ("tcp", "ssl", "ws", "wss")
WS_RESOURCE = "/omero-ws"  # where OMERO's nginx forwards websockets by default


class SandboxServer:
    """An in-memory OMERO stand-in that the unmodified omero-py client talks to.

    It listens on 127.0.0.1 over plain TCP and SSL, as OMERO's Glacier2
    router does (ports 4063 and 4064), and over websockets (``ws``/``wss``,
    resource ``/omero-ws``) as OMERO behind its web proxy.

    Parameters
    ----------
    port : int
        TCP port; 0 picks a free one.
    ssl_port : int
        SSL port; 0 picks a free one.
    now : callable, optional
        Returns the current time; tests inject one to control import dates.
    training : bool
        Say so to clients (the default): nothing is ever verified against it.
        Tests that let the stand-in play the facility's server pass False.
    protocol : str
        Which listener :attr:`address` names ("tcp", "ssl", "ws" or "wss").
    host : str
        The address to listen on; only benchmarks choose another than loopback.
    """

    def __init__(
        self,
        port: int = 0,
        now: Callable[[], dt.datetime] | None = None,
        *,
        training: bool = True,
        ssl_port: int = 0,
        protocol: str = "tcp",
        host: str = "127.0.0.1",
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        self.protocol = protocol
        self.host = host
        self.state = SandboxState(now)
        self.state.identity.training = training
        self.seed = self._seed()
        self.state.identity.passwords.set(self.seed.demo_user.name, DEMO_PASSWORD)
        self.state.identity.passwords.set(self.seed.service_account.name, SERVICE_PASSWORD)
        self._tls = make_identity()
        props = Ice.createProperties()
        for key, value in self._tls.properties.items():
            props.setProperty(key, value)
        props.setProperty("Ice.MessageSizeMax", "262144")
        props.setProperty("Ice.ThreadPool.Server.Size", "2")
        props.setProperty("Ice.ThreadPool.Server.SizeMax", "8")
        # Requests of one connection are dispatched in order: uploads hash as they arrive.
        props.setProperty("Ice.ThreadPool.Server.Serialize", "1")
        props.setProperty("Ice.ACM.Server.Timeout", "0")
        props.setProperty("Ice.Warn.Connections", "0")
        props.setProperty("Ice.TCP.RcvSize", str(4 * 1024 * 1024))
        init = Ice.InitializationData()
        init.properties = props
        try:
            self._communicator = Ice.initialize(init)
        except Exception:
            self._tls.remove()
            raise
        # Unmarshal model objects as the client's *I classes, as a real server would.
        omero.ObjectFactoryRegistrar.registerObjectFactory(self._communicator, None)
        for factory in omero.rtypes.ObjectFactories.values():
            factory.register(self._communicator)
        endpoints = ":".join(
            (
                f"tcp -h {host} -p {port}",
                f"ssl -h {host} -p {ssl_port}",
                f"ws -h {host} -p 0 -r {WS_RESOURCE}",
                f"wss -h {host} -p 0 -r {WS_RESOURCE}",
            )
        )
        self._adapter = self._communicator.createObjectAdapterWithEndpoints(
            "OMEROStandIn", endpoints
        )
        self.registry = Registry(self._adapter, self.state.faults)
        self._adapter.addServantLocator(self.registry, "")
        self.registry.add(Router(self.state, self.registry), None, "OMERO.Glacier2", "router")
        self._adapter.activate()
        kinds = {
            Ice.TCPEndpointType: "tcp",
            Ice.SSLEndpointType: "ssl",
            Ice.WSEndpointType: "ws",
            Ice.WSSEndpointType: "wss",
        }
        self.ports: dict[str, int] = {}
        for endpoint in self._adapter.getEndpoints():
            info = endpoint.getInfo()
            self.ports[kinds[info.type()]] = info.port
        self.port: int = self.ports["tcp"]
        self.ssl_port: int = self.ports["ssl"]

    def _seed(self) -> Seed:
        state = self.state
        lab = state.add_group("Sandbox Lab", "rwr---")
        core = state.add_group("Imaging Core", "rwra--")
        shared = state.add_group("Open Lab", "rwrw--")
        private = state.add_group("Private Lab", "rw----")
        other = state.add_group("Other Lab", "rwr---")
        mine = [lab, core, shared, private]
        demo = state.add_user("demo", mine, "Demo", "User")
        someone = state.add_user("other", [other], "Other", "User")
        colleague = state.add_user("colleague", [*mine, other], "Cecilia", "Colleague")
        leader = state.add_user("leader", [*mine, other], "Lena", "Leader", owner_of=[*mine, other])
        state.new_token(demo, DEMO_TOKEN)
        # The facility's clean-up account: a member of every group, so it can find
        # anyone's files by checksum in groups whose members see each other's data,
        # and an owner of the private group, where members see only their own.
        service = state.add_user(
            SERVICE_ACCOUNT, [*mine, other], "Clean-up", "Service", owner_of=[private]
        )
        return Seed(demo, someone, colleague, leader, lab, core, shared, private, other, service)

    @property
    def address(self) -> str:
        """The server address the app connects to, over :attr:`protocol`."""
        return self.address_for(self.protocol)

    def address_for(self, protocol: str) -> str:
        """The address of one listener: ``tcp://``, ``ssl://``, ``ws://`` or ``wss://``."""
        resource = WS_RESOURCE if protocol in ("ws", "wss") else ""
        return f"{protocol}://{self.host}:{self.ports[protocol]}{resource}"

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def new_token(self, user: User | None = None) -> str:
        """Open a new session, as a login to OMERO.web does, and return its token."""
        return self.state.new_token(user or self.seed.demo_user)

    def expire(self, token: str) -> None:
        self.state.expire(token)

    def objects(self, kind: str) -> list[Any]:
        """Stored objects of one model class, for tests to inspect."""
        with self.state.lock:
            return list(self.state.all(kind))

    def location(self, image_id: int) -> tuple[str, str]:
        """(Project, Dataset) names an image is linked into, for tests to inspect."""
        with self.state.lock:
            [dataset_link] = [
                link
                for link in self.state.all("DatasetImageLink")
                if link.getChild().getId().getValue() == image_id
            ]
            dataset = self.state.get("Dataset", dataset_link.getParent().getId().getValue())
            [project_link] = [
                link
                for link in self.state.all("ProjectDatasetLink")
                if link.getChild().getId().getValue() == dataset.getId().getValue()
            ]
            project = self.state.get("Project", project_link.getParent().getId().getValue())
        return project.getName().getValue(), dataset.getName().getValue()

    def wait_for_shutdown(self) -> None:
        self._communicator.waitForShutdown()

    def stop(self) -> None:
        try:
            self._communicator.destroy()
        finally:
            self._tls.remove()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
