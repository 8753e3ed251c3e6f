"""The demo runs on SQLite: the sandbox's Xero must work there too, not only on PostgreSQL.

A fresh interpreter with no DATABASE_URL migrates a SQLite file, seeds the sandbox and posts a
batch (new contact, two invoices, one refused) through the Accounting API as the hub would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
from sandbox.xero.models import Invoice, Organisation
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import connect
seed_organisations(site_url="http://localhost:8000")
org = Organisation.objects.get(name="Northwind Goods Ltd")
conn = connect(org)
line = {"Description": "Sales", "Quantity": "1", "UnitAmount": "10.00", "AccountCode": "200",
        "TaxType": "OUTPUT2"}
docs = [{"Type": "ACCREC", "Status": "AUTHORISED", "Contact": {"Name": "Amazon.co.uk"},
         "Date": "2026-11-01", "InvoiceNumber": f"DEMO-{n}", "LineItems": [line]}
        for n in (1, 2)]
docs.append({**docs[0], "InvoiceNumber": "DEMO-3", "LineItems": [{**line, "AccountCode": "999"}]})
headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in conn.headers().items()}
answer = Client().put("/sandbox/xero/api/api.xro/2.0/Invoices?summarizeErrors=false&unitdp=4",
                      json.dumps({"Invoices": docs}), content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="demo-key-1", **headers)
body = answer.json()
print(json.dumps({"status": answer.status_code,
                  "flags": [i["StatusAttributeString"] for i in body["Invoices"]],
                  "saved": sorted(Invoice.objects.values_list("number", flat=True))}))
"""


def test_sandbox_xero_batch_writes_work_on_the_demos_sqlite(tmp_path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    }
    env.update(
        HUB_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="hub.settings",
        ALLOWED_HOSTS="testserver,localhost",
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "flags": ["OK", "OK", "ERROR"], "saved": ["DEMO-1", "DEMO-2"]}
    assert (tmp_path / "hub.sqlite3").exists()
