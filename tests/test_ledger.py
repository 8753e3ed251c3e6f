"""The ledger's natural key: re-imports find their row; retries only move failed rows."""

from __future__ import annotations

from decimal import Decimal

from hub.models import Membership
from sandbox.xero.models import Invoice
from sync.ledger import ledger_upsert, link_retry_failed
from sync.models import LedgerEntry
from tests.engine_support import drain, invoice_payload
from tests.test_engine import _link


def test_reimport_posts_nothing_twice_and_a_fixed_row_retries_once(
    sandbox_url: str, mailoutbox, django_user_model
) -> None:
    link = _link(sandbox_url)
    owner = django_user_model.objects.create_user("ann", "ann@example.com", "pw-ann-12345")
    Membership.objects.create(customer=link.customer, user=owner, role="owner")
    good = invoice_payload(1)
    bad = invoice_payload(2) | {
        "LineItems": [{**invoice_payload(2)["LineItems"][0], "AccountCode": "999"}]
    }
    for payload, amazon_id in ((good, "S1"), (bad, "S2")):
        made = ledger_upsert(
            link=link,
            kind="invoice",
            amazon_id=amazon_id,
            payload=payload,
            total=Decimal("12.00"),
            currency="GBP",
            lookup_number=payload["InvoiceNumber"],
        )
        assert made.created
    drain(link)
    failed = LedgerEntry.objects.get(amazon_id="S2")
    assert failed.status == "failed"
    assert "999" in failed.last_error  # Xero's own words name the account code

    # Re-import: the posted row is skipped untouched; the failed one takes the fixed payload.
    again = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="S1",
        payload=good,
        total=Decimal("12.00"),
        currency="GBP",
    )
    assert again.skipped and not again.created
    fixed = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="S2",
        payload=invoice_payload(2),
        total=Decimal("12.00"),
        currency="GBP",
        lookup_number="AMZ-000002",
    )
    assert not fixed.skipped and fixed.entry.status == "pending" and fixed.entry.last_error == ""
    drain(link)
    assert LedgerEntry.objects.filter(link=link, status="posted").count() == 2
    assert Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id).count() == 2

    assert link_retry_failed(link) == 0  # nothing failed now, so nothing moves
    held = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="S3",
        payload=invoice_payload(3),
        total=Decimal("1.00"),
        currency="GBP",
        held_reason="Map the card ending 4242 first.",
    )
    assert held.entry.status == "held"
    # The owners hear about held documents (once a day per reason, not once per document).
    assert [m.subject for m in mailoutbox] == [f"[Ledgerbridge] Documents held for {link.amazon}"]
    assert "Map the card ending 4242 first." in mailoutbox[0].body
    drain(link)
    assert LedgerEntry.objects.get(amazon_id="S3").status == "held"
