"""Fixtures of the reliability suite: servers of its own, so its attacks never disturb other tests."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.support.api import Account, Api, staff_factory
from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.tokens import SERVER_SECRET


@pytest.fixture(scope="package")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real server shared by this package's tests (embedded stores, generous limits, the known secret);
    the fault, soak and frame-fuzz tests start servers of their own."""
    proc = ServerProcess(tmp_path_factory.mktemp("relserver"), env={"SECRET_KEY": SERVER_SECRET, **GENEROUS_LIMITS})
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="package")
def own_api(own_server: ServerProcess) -> Api:
    return Api(own_server.url)


@pytest.fixture(scope="package")
def own_staff(own_server: ServerProcess, own_api: Api) -> Callable[[str], Account]:
    """Accounts of a role on `own_server`, made through the real CLI (cached per role)."""
    return staff_factory(own_server, own_api)
