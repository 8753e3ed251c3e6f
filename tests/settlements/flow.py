"""Wiring a Seller Central link to a sandbox Xero organisation with a complete mapping."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from connectors.models import Link
from mappings.resolve import MappingSet
from mappings.services import mapping_store
from sandbox.xero.models import Attachment, Invoice, Organisation, Payment
from settlements import services
from settlements.models import Settlement
from sync.models import LedgerEntry
from tests.engine_support import drain, hub_link, seed_xero
from tests.settlements.support import DE, UK, US, mapping, render, us_mapping

MARKETPLACES = {
    UK: {"id": UK, "name": "Amazon.co.uk", "country": "GB", "currency": "GBP"},
    DE: {"id": DE, "name": "Amazon.de", "country": "DE", "currency": "EUR"},
    US: {"id": US, "name": "Amazon.com", "country": "US", "currency": "USD"},
}


def seller_link(
    sandbox_url: str,
    *,
    org: str = "Northwind Goods Ltd",
    name: str = "Acme",
    marketplaces: tuple[str, ...] = (UK, DE),
    mapped: MappingSet | None = None,
) -> Link:
    site = sandbox_url.removesuffix("/sandbox")
    seed_xero(site)
    link = hub_link(org=Organisation.objects.get(name=org), customer_name=name, site_url=site)
    account = link.seller_account
    assert account is not None
    account.available_marketplaces = [MARKETPLACES[m] for m in marketplaces]
    account.marketplace_ids = list(marketplaces)
    account.save()
    if mapped is None:
        mapped = us_mapping() if org == "Redwood Supply Co." else mapping()
    mapping_store(link, mapped)
    return link


def upload(link: Link, settlement: Any, layout: str = "v2") -> services.Ingested:
    return services.settlement_upload(
        link=link, file_name=f"{settlement.settlement_id}.txt", raw=render(settlement, layout)
    )


def post_everything(link: Link) -> dict[str, int]:
    """Build, push every kind and attach, as the workers would; returns Xero calls by step."""
    calls: dict[str, int] = {}
    retry(lambda: services.settlements_build_due(link))
    for kind in ("invoice", "bill", "payment"):
        calls[kind] = sum(o.calls for o in drain(link, kind))
    attached = 0
    end = time.monotonic() + 60
    while time.monotonic() < end:
        outcome = services.settlement_attach_step(link)
        attached += outcome.calls
        if not outcome.more:
            break
        time.sleep(min(outcome.wait, 2.0))
    calls["attachment"] = attached
    return calls


def retry(step: Any, seconds: float = 30.0) -> Any:
    """Run a service step, waiting as the limiter says (a worker would re-queue instead)."""
    from connectors import http

    end = time.monotonic() + seconds
    while True:
        try:
            return step()
        except http.RetryLater as exc:
            if time.monotonic() > end:
                raise
            time.sleep(min(max(exc.decision.wait, 0.1), 2.0))


def xero_documents(link: Link) -> Any:
    return Invoice.objects.filter(org__tenant_id=link.xero_tenant.tenant_id).exclude(
        status__in=["VOIDED", "DELETED"]
    )


def assert_settlement_in_xero(link: Link, settlement: Settlement) -> list[Invoice]:
    """The documents equal the settlement, each is paid from the clearing account on the
    deposit date, and each carries the audit CSV of its rows."""
    documents = list(
        xero_documents(link).filter(number__startswith=f"AMZ-{settlement.settlement_id}")
    )
    assert documents, f"no Xero document for {settlement.settlement_id}"
    signed = Decimal("0.00")
    paid = Decimal("0.00")
    for invoice in documents:
        sign = 1 if invoice.type == "ACCREC" else -1
        signed += sign * invoice.total
        assert invoice.currency_code == settlement.currency
        assert invoice.amount_due == 0 and invoice.status == "PAID", (
            invoice.number,
            invoice.status,
        )
        for payment in Payment.objects.filter(invoice=invoice, status="AUTHORISED"):
            paid += sign * payment.amount
            assert payment.date == settlement.deposit_date.date()
            assert payment.account.code == link.mapping_settings.clearing_account
        files = Attachment.objects.filter(object_id=invoice.invoice_id)
        part = invoice.number.removeprefix(f"AMZ-{settlement.settlement_id}").split("-R")[0]
        assert [f.file_name for f in files] == [
            f"amazon-settlement-{settlement.settlement_id}{part}.csv"
        ]
        lines = bytes(files[0].content).decode().splitlines()
        assert lines[0].startswith("settlement-id,line,posted-date")
        assert all(line.split(",")[0] == settlement.settlement_id for line in lines[1:])
    assert signed == settlement.total_amount
    assert paid == settlement.total_amount
    return documents


def ledger_counts(link: Link) -> dict[str, int]:
    return {
        status: LedgerEntry.objects.filter(link=link, status=status).count()
        for status in ("pending", "sending", "posted", "failed", "held")
    }
