"""Mapping tests: the rate limiter's state lives in the test database (not the shared Redis, so
other test runs cannot spend these tenants' minutes), and queued tasks are recorded instead of
reaching a broker (tests call the services those tasks would run)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mappings import tasks as mapping_tasks
from sync import tasks as sync_tasks


@pytest.fixture(autouse=True)
def isolated_limits_and_queue(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    settings.REDIS_URL = ""
    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        sync_tasks.push_link,
        "apply_async",
        lambda args, countdown=0, **kw: queued.append(("push_link", tuple(args))),
    )
    monkeypatch.setattr(
        mapping_tasks.release_held, "delay", lambda *args: queued.append(("release_held", args))
    )
    yield queued


@pytest.fixture
def queued(isolated_limits_and_queue: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
    return isolated_limits_and_queue
