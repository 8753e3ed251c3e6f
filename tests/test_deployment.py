"""docker compose cannot run here; its structure is checked instead."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_web_worker_beat_postgres_and_redis_with_healthchecks() -> None:
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert "hub.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "hub", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "hub", "beat"]
    for name in ("web", "worker", "postgres", "redis"):
        assert "test" in services[name]["healthcheck"], name
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        if name != "beat":  # beat only publishes to Redis
            assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_compose_keeps_data_in_named_volumes() -> None:
    compose = _compose()
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]


def test_dockerfile_builds_the_app_and_serves_it_with_gunicorn() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER hub$", dockerfile, re.M), "the app does not run as root"
    for folder in ("hub", "connectors", "mappings", "sync", "sandbox", "templates", "static"):
        assert f"COPY {folder} " in dockerfile, folder


def test_env_example_names_every_setting_production_needs() -> None:
    example = (ROOT / ".env.example").read_text()
    for name in (
        "SECRET_KEY",
        "FERNET_KEYS",
        "ALLOWED_HOSTS",
        "XERO_CLIENT_ID",
        "XERO_CLIENT_SECRET",
        "AMAZON_SP_CLIENT_ID",
        "AMAZON_BUSINESS_CLIENT_ID",
        "DEBUG",
        "SANDBOX",
    ):
        assert re.search(rf"^{name}=", example, re.M), name
