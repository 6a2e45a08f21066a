from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.api.auth import SCOPES, create_key
from takedown.app import App

KeyMaker = Callable[..., str]


@pytest.fixture
def api(app: App) -> FastAPI:
    return create_app(app)


@pytest.fixture
def client(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def make_key(app: App) -> KeyMaker:
    def make(*scopes: str, platform: str | None = None) -> str:
        chosen = list(scopes) or list(SCOPES)
        agency = None if platform else "Test IRU"
        return create_key(app, "test", chosen, agency=agency, platform=platform).secret

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
