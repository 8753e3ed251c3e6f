from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings


def test_healthz_is_up_without_dependencies() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker() -> None:
    response = Client().get("/readyz")
    data = response.json()
    assert response.status_code == 200, data
    assert data["status"] == "ok"
    assert data["checks"]["database"]["ok"] is True
    assert data["checks"]["broker"]["ok"] is True
    assert data["checks"]["broker"]["transport"] == settings.CELERY_BROKER_URL.split(":")[0]


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_readyz_reports_a_stopped_broker_honestly() -> None:
    response = Client().get("/readyz")
    data = response.json()
    assert response.status_code == 503
    assert data["status"] == "unavailable"
    assert data["checks"]["database"]["ok"] is True
    broker = data["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["transport"] == "redis"
    assert "Connection refused" in broker["error"] or "Error 111" in broker["error"]


@pytest.mark.django_db
def test_readyz_reports_an_unwritable_embedded_broker(tmp_path) -> None:
    missing = tmp_path / "no-such-folder"
    with override_settings(
        CELERY_BROKER_URL="filesystem://",
        CELERY_BROKER_TRANSPORT_OPTIONS={"data_folder_in": str(missing)},
    ):
        response = Client().get("/readyz")
    broker = response.json()["checks"]["broker"]
    assert response.status_code == 503
    assert broker == {
        "ok": False,
        "transport": "filesystem",
        "error": f"queue folder {missing} is missing or not writable",
    }
