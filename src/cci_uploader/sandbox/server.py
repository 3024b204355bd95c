"""Start and stop the OMERO stand-in on 127.0.0.1, over real Ice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import Ice
import omero
import omero.all
import omero.ObjectFactoryRegistrar
import omero.rtypes

from cci_uploader.sandbox.registry import Registry
from cci_uploader.sandbox.router import Router
from cci_uploader.sandbox.state import Faults, Group, SandboxState, User

DEMO_TOKEN = "sandbox-demo-token"
# Seeded accounts that log in with a user name and password (the demo user too).
DEMO_PASSWORD = "sandbox-demo"
SERVICE_ACCOUNT, SERVICE_PASSWORD = "cleanup-service", "sandbox-cleanup"


@dataclass(frozen=True)
class Seed:
    """The users and groups every sandbox starts with."""

    demo_user: User
    other_user: User
    lab_group: Group
    core_group: Group
    other_group: Group
    service_account: User


class SandboxServer:
    """An in-memory OMERO stand-in that the unmodified omero-py client talks to.

    Parameters
    ----------
    port : int
        TCP port on 127.0.0.1; 0 picks a free one.
    now : callable, optional
        Returns the current time; tests inject one to control import dates.
    training : bool
        Say so to clients (the default): nothing is ever verified against it.
        Tests that let the stand-in play the facility's server pass False.
    """

    def __init__(
        self,
        port: int = 0,
        now: Callable[[], dt.datetime] | None = None,
        *,
        training: bool = True,
    ) -> None:
        self.state = SandboxState(now)
        self.state.identity.training = training
        self.seed = self._seed()
        self.state.identity.passwords.set(self.seed.demo_user.name, DEMO_PASSWORD)
        self.state.identity.passwords.set(self.seed.service_account.name, SERVICE_PASSWORD)
        props = Ice.createProperties()
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
        self._communicator = Ice.initialize(init)
        # Unmarshal model objects as the client's *I classes, as a real server would.
        omero.ObjectFactoryRegistrar.registerObjectFactory(self._communicator, None)
        for factory in omero.rtypes.ObjectFactories.values():
            factory.register(self._communicator)
        self._adapter = self._communicator.createObjectAdapterWithEndpoints(
            "OMEROStandIn", f"tcp -h 127.0.0.1 -p {port}"
        )
        self.registry = Registry(self._adapter)
        self._adapter.addServantLocator(self.registry, "")
        self.registry.add(Router(self.state, self.registry), None, "OMERO.Glacier2", "router")
        self._adapter.activate()
        self.port: int = self._adapter.getEndpoints()[0].getInfo().port

    def _seed(self) -> Seed:
        state = self.state
        lab = state.add_group("Sandbox Lab")
        core = state.add_group("Imaging Core")
        other = state.add_group("Other Lab")
        demo = state.add_user("demo", [lab, core], "Demo", "User")
        someone = state.add_user("other", [other], "Other", "User")
        state.new_token(demo, DEMO_TOKEN)
        # The facility's clean-up account: a member of every group, so it can find
        # anyone's files by checksum in groups whose members see each other's data.
        service = state.add_user(SERVICE_ACCOUNT, [core, lab, other], "Clean-up", "Service")
        return Seed(demo, someone, lab, core, other, service)

    @property
    def address(self) -> str:
        """The server address the app connects to."""
        return f"tcp://127.0.0.1:{self.port}"

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
        self._communicator.destroy()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
