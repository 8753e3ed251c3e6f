"""The sandbox Xero's webhooks: intent to receive, and signed CONTACT/INVOICE/CREDITNOTE events
delivered to a real receiver, with payloads checked against xero-webhooks.yaml."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema
import pytest
import yaml

from sandbox.xero.models import Organisation, WebhookDelivery
from sandbox.xero.seed import seed_organisations
from sandbox.xero.testing import Api, connect
from sandbox.xero.webhooks import sign, signature_valid, subscription_create
from tests.specs import SPECS

KEY = "q2Xb3n0nO5c5mSgl4wF0dHGTqUGbf3PpkkpzJr1h5C9y0s6Ye9tYQ7yC4R5H3s3hK6Tq7mV0yW1A=="


class Receiver:
    """A webhook endpoint that checks signatures the way Xero requires a receiver to."""

    def __init__(self, key: str, *, honest: bool = True) -> None:
        self.key, self.honest = key, honest
        self.received: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("x-xero-signature", "")
                ok = signature_valid(body, receiver.key, signature) or not receiver.honest
                if ok:
                    receiver.received.append((body, signature))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/xero/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received if json.loads(body)["events"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(KEY)
    yield r
    r.close()


@pytest.fixture
def uk(sandbox_url: str) -> Organisation:
    seed_organisations(site_url="http://hub.test")
    return Organisation.objects.get(short_code="!nW7Gd")


def _schema(name: str) -> dict[str, Any]:
    spec = yaml.safe_load((SPECS / "xero" / "xero-webhooks.yaml").read_text())
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


def test_intent_to_receive_passes_only_a_receiver_that_checks_signatures(
    transactional_db: None, receiver: Receiver
) -> None:
    subscription = subscription_create(url=receiver.url, signing_key=KEY)
    assert subscription.status == "ACTIVE" and subscription.intent_verified_at is not None
    # Only the correctly signed probes were accepted; each is an empty event batch.
    assert len(receiver.received) == 2
    probe = json.loads(receiver.received[0][0])
    # Xero's documented probe has sequence numbers 0, below the spec schema's minimum of 1,
    # so the probe follows the documentation and is not validated against the schema.
    assert probe["events"] == [] and probe["firstEventSequence"] == 0
    assert probe["lastEventSequence"] == 0 and len(probe["entropy"]) == 20

    careless = Receiver(KEY, honest=False)
    try:
        refused = subscription_create(url=careless.url, signing_key=KEY)
        assert refused.status == "DISABLED" and refused.intent_verified_at is None
    finally:
        careless.close()


def test_invoice_and_contact_events_are_signed_and_delivered(
    sandbox_url: str, uk: Organisation, receiver: Receiver
) -> None:
    conn = connect(uk)
    subscription = subscription_create(url=receiver.url, signing_key=KEY, app=conn.app)
    receiver.received.clear()
    api = Api(sandbox_url, conn)
    created = api.put(
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"Name": "Amazon FR"},
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "x",
                            "Quantity": 1,
                            "UnitAmount": Decimal("5.00"),
                            "AccountCode": "200",
                            "TaxType": "OUTPUT2",
                        }
                    ],
                }
            ]
        },
    )
    assert created.status_code == 200
    invoice_id = created.json()["Invoices"][0]["InvoiceID"]
    contact_id = created.json()["Invoices"][0]["Contact"]["ContactID"]

    assert len(receiver.received) == 1
    body, signature = receiver.received[0]
    assert signature == sign(body, KEY)
    payload = json.loads(body)
    jsonschema.Draft202012Validator(_schema("WebhookEvent")).validate(payload)
    events = payload["events"]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", contact_id),
        ("INVOICE", "CREATE", invoice_id),
    ]
    assert events[1]["resourceUrl"] == f"{sandbox_url}/xero/api/api.xro/2.0/Invoices/{invoice_id}"
    assert all(
        e["tenantId"] == str(uk.tenant_id) and e["tenantType"] == "ORGANISATION" for e in events
    )
    assert (payload["firstEventSequence"], payload["lastEventSequence"]) == (1, 2)
    assert len(payload["entropy"]) == 20
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status_code == 200 and delivery.error == "" and bytes(delivery.payload) == body

    # Paying it is an UPDATE of the invoice; the sequence carries on.
    api.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice_id},
                    "Account": {"Code": "090"},
                    "Amount": Decimal("6.00"),
                }
            ]
        },
    )
    update = json.loads(receiver.received[1][0])
    assert [(e["eventCategory"], e["eventType"]) for e in update["events"]] == [
        ("INVOICE", "UPDATE")
    ]
    assert update["firstEventSequence"] == 3


def test_credit_note_events_carry_type_and_status(
    sandbox_url: str, uk: Organisation, receiver: Receiver
) -> None:
    conn = connect(uk)
    subscription_create(url=receiver.url, signing_key=KEY, app=conn.app)
    receiver.received.clear()
    Api(sandbox_url, conn).put(
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"Name": "Bramble & Co Interiors"},
                    "LineItems": [
                        {
                            "Description": "r",
                            "Quantity": 1,
                            "UnitAmount": Decimal("3.00"),
                            "AccountCode": "200",
                        }
                    ],
                }
            ]
        },
    )
    payload = json.loads(receiver.received[0][0])
    jsonschema.Draft202012Validator(_schema("CreditNoteWebhookEvent")).validate(payload)
    assert payload["events"][0]["data"] == {"Type": "ACCRECCREDIT", "Status": "DRAFT"}


def test_a_failing_receiver_is_recorded_and_never_fails_the_call(
    sandbox_url: str, uk: Organisation
) -> None:
    conn = connect(uk)
    subscription = subscription_create(
        url="http://127.0.0.1:9/unreachable", signing_key=KEY, app=conn.app, verify=False
    )
    created = Api(sandbox_url, conn).put("Contacts", {"Contacts": [{"Name": "Amazon IT"}]})
    assert created.status_code == 200
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status_code is None and "ConnectionError" in delivery.error
    assert json.loads(bytes(delivery.payload))["events"][0]["eventCategory"] == "CONTACT"


def test_another_apps_subscription_hears_nothing(
    sandbox_url: str, uk: Organisation, receiver: Receiver
) -> None:
    other = connect(Organisation.objects.get(short_code="!rS4Qm"))
    subscription_create(url=receiver.url, signing_key=KEY, app=other.app)
    receiver.received.clear()
    Api(sandbox_url, connect(uk)).put("Contacts", {"Contacts": [{"Name": "Amazon ES"}]})
    assert receiver.received == []
