"""Settlement tests against the sandbox run with a Xero "minute" of one second.

The hub's limiter keeps its windows in Redis, shared by every test (and every test run on the
machine) for the same sandbox tenant; a short window keeps one test's calls from spending the
next test's minute, exactly as the engine tests do with their own scale.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

SCALE = 60


@pytest.fixture(autouse=True)
def _fast_windows(request: pytest.FixtureRequest) -> Iterator[None]:
    if "sandbox_url" not in request.fixturenames:
        yield
        return
    from sandbox.state import sandbox_configure

    request.getfixturevalue("sandbox_url")
    sandbox_configure(time_scale=SCALE)
    with override_settings(RATE_LIMIT_TIME_SCALE=SCALE):
        yield
