"""A task sent by one process is run by a real worker process and its result comes back."""

from __future__ import annotations

import os
import uuid

import pytest
from celery import Celery
from django.conf import settings

from tests.workers import celery_worker

pytestmark = pytest.mark.worker


def _client(broker: str, backend: str, transport_options: dict[str, object]) -> Celery:
    app = Celery("roundtrip-client", broker=broker, backend=backend)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        broker_transport_options=transport_options,
    )
    return app


def test_task_round_trips_through_a_worker_on_redis(tmp_path) -> None:
    redis_url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    assert redis_url.startswith("redis://"), "make test runs with REDIS_URL on a real Redis"
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"
    env: dict[str, str | None] = {"REDIS_URL": redis_url, "HUB_VAR_DIR": str(tmp_path)}
    with celery_worker(env, queue=queue, log=tmp_path / "worker.log"):
        client = _client(redis_url, redis_url, {})
        result = client.send_task("hub.ping", args=[{"n": 42}], queue=queue)
        try:
            value = result.get(timeout=60)
        except Exception:
            print((tmp_path / "worker.log").read_text())
            raise
    assert value["pong"] == {"n": 42}
    assert value["worker"]
    assert result.status == "SUCCESS"


def test_task_round_trips_through_a_worker_on_the_embedded_broker(tmp_path) -> None:
    """The demo's broker: kombu's filesystem transport, no server at all."""
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"
    env: dict[str, str | None] = {
        "HUB_VAR_DIR": str(tmp_path),
        "REDIS_URL": None,
        "CELERY_BROKER_URL": None,
        "CELERY_RESULT_BACKEND": None,
        "DATABASE_URL": None,
    }
    folder = tmp_path / "broker" / "queue"
    folder.mkdir(parents=True)
    (tmp_path / "celery-results").mkdir()
    with celery_worker(env, queue=queue, log=tmp_path / "worker.log"):
        client = _client(
            "filesystem://",
            f"file://{tmp_path / 'celery-results'}",
            {
                "data_folder_in": str(folder),
                "data_folder_out": str(folder),
                "processed_folder": str(tmp_path / "broker" / "processed"),
                "control_folder": str(tmp_path / "broker" / "control"),
                "store_processed": False,
            },
        )
        result = client.send_task("hub.ping", args=["embedded"], queue=queue)
        try:
            value = result.get(timeout=60)
        except Exception:
            print((tmp_path / "worker.log").read_text())
            raise
    assert value["pong"] == "embedded"
    assert not list(folder.iterdir()), "the worker consumed the message"
