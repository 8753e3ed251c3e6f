from __future__ import annotations

import socket
from typing import Any

from celery import shared_task


@shared_task(name="hub.ping")
def ping(payload: Any = None) -> dict[str, Any]:
    """Round-trip probe: proves a worker consumes the broker and writes results back."""
    return {"pong": payload, "worker": socket.gethostname()}
