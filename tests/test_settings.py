"""Settings parse from the environment, and the system checks refuse unsafe production set-ups.

Each case runs in a fresh interpreter, because settings are read once at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_VARS = (
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "AMAZON_SP_CLIENT_ID",
    "AMAZON_SP_CLIENT_SECRET",
    "AMAZON_SP_APP_ID",
    "AMAZON_BUSINESS_CLIENT_ID",
    "AMAZON_BUSINESS_CLIENT_SECRET",
    "AMAZON_BUSINESS_APP_ID",
    "SANDBOX",
    "DEBUG",
    "SECRET_KEY",
    "FERNET_KEYS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "WORKER_CONCURRENCY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "XERO_API_URL",
)
GOOD_KEY = "k" * 60
FERNET = Fernet.generate_key().decode()
REAL_CREDENTIALS = {
    "XERO_CLIENT_ID": "xero-id",
    "XERO_CLIENT_SECRET": "xero-secret",
    "AMAZON_SP_CLIENT_ID": "amzn1.application-oa2-client.x",
    "AMAZON_SP_CLIENT_SECRET": "s",
    "AMAZON_SP_APP_ID": "amzn1.sp.solution.x",
}


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS}
    env["HUB_VAR_DIR"] = str(tmp_path)
    env.update(overrides)
    return env


def _settings(tmp_path: Path, **overrides: str) -> dict[str, object]:
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({k: getattr(settings, k) for k in ("
        "'DEBUG','SANDBOX','ALLOWED_HOSTS','CELERY_BROKER_URL','CELERY_RESULT_BACKEND',"
        "'XERO_API_URL','XERO_LOGIN_URL','AMAZON_SP_API_URL_EU','WORKER_CONCURRENCY',"
        "'FERNET_KEYS')} | {'ENGINE': settings.DATABASES['default']['ENGINE'],"
        "'NAME': str(settings.DATABASES['default']['NAME'])}, default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
    )


def test_defaults_run_the_demo_on_sqlite_the_embedded_broker_and_the_sandbox(tmp_path) -> None:
    s = _settings(tmp_path)
    assert s["DEBUG"] is True and s["SANDBOX"] is True
    assert s["ENGINE"] == "django.db.backends.sqlite3"
    assert s["NAME"] == str(tmp_path / "hub.sqlite3")
    assert s["CELERY_BROKER_URL"] == "filesystem://"
    assert s["CELERY_RESULT_BACKEND"] == f"file://{tmp_path / 'celery-results'}"
    assert s["XERO_API_URL"] == "http://localhost:8000/sandbox/xero/api"
    assert s["WORKER_CONCURRENCY"] == 1
    assert len(s["FERNET_KEYS"]) == 1  # derived for the demo only


def test_production_environment_is_parsed(tmp_path) -> None:
    s = _settings(
        tmp_path,
        DEBUG="false",
        SECRET_KEY=GOOD_KEY,
        FERNET_KEYS=f"{FERNET},{FERNET}",
        DATABASE_URL="postgres://hub:pw@db:5432/hub",
        REDIS_URL="redis://cache:6379/1",
        ALLOWED_HOSTS="hub.example.com,api.example.com",
        **REAL_CREDENTIALS,
    )
    assert s["DEBUG"] is False and s["SANDBOX"] is False
    assert s["ENGINE"] == "django.db.backends.postgresql" and s["NAME"] == "hub"
    assert s["CELERY_BROKER_URL"] == s["CELERY_RESULT_BACKEND"] == "redis://cache:6379/1"
    assert s["ALLOWED_HOSTS"] == ["hub.example.com", "api.example.com"]
    assert s["XERO_API_URL"] == "https://api.xero.com"
    assert s["XERO_LOGIN_URL"] == "https://login.xero.com"
    assert s["AMAZON_SP_API_URL_EU"] == "https://sellingpartnerapi-eu.amazon.com"
    assert s["FERNET_KEYS"] == [FERNET, FERNET]
    assert s["WORKER_CONCURRENCY"] == 4


def test_a_safe_production_configuration_passes_the_checks(tmp_path) -> None:
    result = _check(
        tmp_path,
        DEBUG="false",
        SECRET_KEY=GOOD_KEY,
        FERNET_KEYS=FERNET,
        DATABASE_URL="postgres://hub:pw@db:5432/hub",
        **REAL_CREDENTIALS,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_secret_key_or_fernet_keys_is_refused(tmp_path) -> None:
    result = _check(
        tmp_path, DEBUG="false", DATABASE_URL="postgres://hub:pw@db/hub", **REAL_CREDENTIALS
    )
    assert result.returncode != 0
    assert "hub.E001" in result.stderr and "SECRET_KEY is not set" in result.stderr
    assert "hub.E002" in result.stderr and "FERNET_KEYS is not set" in result.stderr


def test_a_malformed_fernet_key_is_refused(tmp_path) -> None:
    result = _check(tmp_path, FERNET_KEYS="not-a-key")
    assert result.returncode != 0
    assert "hub.E003" in result.stderr and "FERNET_KEYS entry 1" in result.stderr


def test_real_mode_without_client_ids_is_refused(tmp_path) -> None:
    result = _check(tmp_path, SANDBOX="false")
    assert result.returncode != 0
    assert "hub.E010" in result.stderr and "XERO_CLIENT_ID" in result.stderr
    assert "hub.E011" in result.stderr

    partial = _check(
        tmp_path,
        SANDBOX="false",
        XERO_CLIENT_ID="x",
        XERO_CLIENT_SECRET="y",
        AMAZON_SP_CLIENT_ID="only-the-id",
    )
    assert "hub.E012" in partial.stderr and "must be set together" in partial.stderr


def test_sqlite_with_several_workers_is_refused(tmp_path) -> None:
    result = _check(tmp_path, WORKER_CONCURRENCY="4")
    assert result.returncode != 0
    assert "hub.E020" in result.stderr and "database is locked" in result.stderr
    assert (
        _check(tmp_path, WORKER_CONCURRENCY="4", DATABASE_URL="postgres://hub:pw@db/hub").returncode
        == 0
    )
