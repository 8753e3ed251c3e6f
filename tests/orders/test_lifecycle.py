"""What happens to an order after it is first read, against the sandbox: Amazon cancels it
(before or after its invoice posted), its buyer has a contact of their own, its SKUs become Xero
Items, its settlement arrives before the hub has read it; and building again changes nothing."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from connectors.models import Link
from hub.celery import app as celery_app
from mappings.services import mapping_store
from orders import pull
from orders.models import AccountingMode, AmazonOrder, BuyerContact, OrderSettings
from orders.services import orders_build
from sandbox.amazon.models import Order as SandboxOrder
from sandbox.datagen.marketplaces import iso_z
from sandbox.xero.models import Contact, CreditNote, Invoice, Item, Organisation, Payment
from settlements.models import Settlement
from settlements.services import settlement_build, settlements_build_due
from sync.models import LedgerEntry
from tests.engine_support import UK_ORG, drain, hub_link, seed_xero, settings_env
from tests.orders.api_json import CURRENCIES, api_item, api_order
from tests.orders.support import per_order_link, run_to_end
from tests.orders.test_per_order import _clearing, _push_all, _settlements_pulled
from tests.sandbox.amazon_support import EU_SELLER, UK
from tests.settlements.support import mapping
from tests.workers import celery_worker

UK_CUSTOMERS = "Amazon Customers Amazon.co.uk"


def seller_link(sandbox_url: str, *, orders: int = 60, days: int = 20) -> Link:
    """A per-order link to the seeded EU seller, mapped, accounting per order for ``days``."""
    link = per_order_link(sandbox_url, seller=EU_SELLER, orders=orders)
    mapping_store(link, mapping())
    OrderSettings.objects.filter(link=link).update(
        per_order_since=timezone.now() - timedelta(days=days)
    )
    return link


def xero_link(sandbox_url: str, **options: Any) -> Link:
    """A per-order link to the UK organisation whose orders the test writes itself (as the
    pull would store them, BuyerInfo included when Amazon shares it)."""
    site = sandbox_url.removesuffix("/sandbox")
    seed_xero(site)
    link = hub_link(org=Organisation.objects.get(name=UK_ORG), customer_name="Acme", site_url=site)
    OrderSettings.objects.create(
        link=link,
        mode=AccountingMode.PER_ORDER,
        per_order_since=timezone.now() - timedelta(days=30),
        **options,
    )
    mapping_store(link, mapping())
    return link


def hub_order(
    link: Link,
    order_id: str,
    total: str,
    items: list[dict[str, Any]],
    *,
    days_ago: int = 2,
    buyer: dict[str, str] | None = None,
) -> AmazonOrder:
    bought = (timezone.now() - timedelta(days=days_ago)).replace(microsecond=0)
    return AmazonOrder.objects.create(
        link=link,
        amazon_order_id=order_id,
        marketplace_id=UK,
        sales_channel="Amazon.co.uk",
        status="Shipped",
        purchase_date=bought,
        last_update_date=bought + timedelta(days=1),
        currency=CURRENCIES[UK],
        order_total=Decimal(total),
        data=api_order(UK, order_id, total, bought=bought, buyer=buyer),
        items=items,
        items_read_at=timezone.now(),
    )


def amazon_cancels(order_id: str) -> None:
    """The sandbox seller's order becomes Canceled, as getOrders will now describe it."""
    theirs = SandboxOrder.objects.get(
        seller__selling_partner_id=EU_SELLER, amazon_order_id=order_id
    )
    moment = (timezone.now() - timedelta(minutes=5)).replace(microsecond=0)
    data = dict(theirs.data)
    data.pop("OrderTotal", None)
    data.update(
        OrderStatus="Canceled",
        LastUpdateDate=iso_z(moment),
        NumberOfItemsShipped=0,
        NumberOfItemsUnshipped=0,
    )
    theirs.status, theirs.last_update_date, theirs.data = "Canceled", moment, data
    theirs.save()


def xero_invoices(link: Link) -> dict[str, Invoice]:
    """The link's sales invoices in sandbox Xero by Reference (the AmazonOrderId), voided too."""
    return {
        i.reference: i
        for i in Invoice.objects.filter(
            org__tenant_id=link.xero_tenant.tenant_id, type="ACCREC"
        ).select_related("contact")
    }


def invoiced_order(link: Link, status: str) -> AmazonOrder:
    """A shipped order whose invoice row is in ``status``."""
    found = (
        AmazonOrder.objects.filter(link=link, status="Shipped", invoice_entry__status=status)
        .select_related("invoice_entry")
        .order_by("purchase_date")
        .first()
    )
    assert found is not None, f"no shipped order with a {status} invoice"
    return found


def xero_documents(link: Link) -> dict[str, int]:
    tenant = link.xero_tenant.tenant_id
    return {
        "invoices": Invoice.objects.filter(org__tenant_id=tenant).count(),
        "credit notes": CreditNote.objects.filter(org__tenant_id=tenant).count(),
        "payments": Payment.objects.filter(org__tenant_id=tenant).count(),
        "items": Item.objects.filter(org__tenant_id=tenant).count(),
    }


# --------------------------------------------------------------------------- cancellations


def test_an_order_cancelled_before_it_posts_leaves_nothing_to_post(sandbox_url: str) -> None:
    link = seller_link(sandbox_url)
    assert run_to_end(pull.orders_pull_start(link)).status == "done"
    cancelled = invoiced_order(link, "pending")
    row = cancelled.invoice_entry
    assert row is not None and row.payload["Reference"] == cancelled.amazon_order_id

    amazon_cancels(cancelled.amazon_order_id)
    assert run_to_end(pull.orders_pull_start(link)).status == "done"

    cancelled.refresh_from_db()
    assert cancelled.status == "Canceled" and cancelled.invoice_entry is None
    assert not LedgerEntry.objects.filter(pk=row.pk).exists()
    assert not LedgerEntry.objects.filter(link=link, amazon_id=cancelled.amazon_order_id).exists()
    drain(link, "invoice")
    posted = xero_invoices(link)
    assert cancelled.amazon_order_id not in posted
    invoiced = set(
        AmazonOrder.objects.filter(link=link, invoice_entry__isnull=False).values_list(
            "amazon_order_id", flat=True
        )
    )
    assert invoiced and invoiced == set(posted)  # the other orders posted as before


@pytest.mark.worker
def test_an_order_cancelled_after_it_posted_is_voided_in_xero(
    sandbox_url: str, tmp_path: Path
) -> None:
    link = seller_link(sandbox_url)
    assert run_to_end(pull.orders_pull_start(link)).status == "done"
    drain(link, "invoice")
    cancelled = invoiced_order(link, "posted")
    oid = cancelled.amazon_order_id
    assert xero_invoices(link)[oid].status == "AUTHORISED"
    others = {k: v.status for k, v in xero_invoices(link).items() if k != oid}
    assert others and set(others.values()) == {"AUTHORISED"}

    amazon_cancels(oid)
    # A worker runs the pull; the pull's build finds the cancellation and queues the rollback
    # (on commit), which the worker runs too.
    queue = f"orders-{uuid.uuid4().hex[:8]}"
    env = {
        **settings_env(sandbox_url),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "HUB_VAR_DIR": str(tmp_path),
    }
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        with celery_worker(env, queue=queue, log=tmp_path / "worker.log"):
            pull.orders_pull_start(link)
            end = time.monotonic() + 90
            while time.monotonic() < end and xero_invoices(link)[oid].status != "VOIDED":
                time.sleep(0.2)
    finally:
        celery_app.conf.task_default_queue = previous_queue
    voided = xero_invoices(link)
    assert voided[oid].status == "VOIDED", (tmp_path / "worker.log").read_text()[-3000:]
    assert {k: v.status for k, v in voided.items() if k != oid} == others
    cancelled.refresh_from_db()
    assert cancelled.status == "Canceled"
    assert cancelled.invoice_entry is not None and cancelled.invoice_entry.status == "voided"

    # Building again neither re-posts the cancelled order nor voids it twice.
    rows = LedgerEntry.objects.filter(link=link).count()
    documents = xero_documents(link)
    counts = orders_build(link)
    assert counts.voided == 0 and counts.dropped == 0 and counts.created == 0
    drain(link, "invoice")
    assert LedgerEntry.objects.filter(link=link).count() == rows
    assert xero_documents(link) == documents
    assert xero_invoices(link)[oid].status == "VOIDED"


# --------------------------------------------------------------------------- contacts and items


def test_per_buyer_contacts_are_one_per_buyer_however_amazon_writes_the_name(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url, contact_per_buyer=True)
    mug = [api_item(UK, "MUG-1001-BLU", "Mug", price="12.00", tax="2.00")]
    jane = {"BuyerEmail": "Jane.Smith@example.co.uk", "BuyerName": "Jane Smith"}
    hub_order(link, "203-3000001-0000001", "12.00", mug, days_ago=4, buyer=jane)
    again = {"BuyerEmail": "jane.smith@example.co.uk ", "BuyerName": "JANE  SMITH."}
    hub_order(link, "203-3000002-0000002", "12.00", mug, days_ago=3, buyer=again)
    tom = {"BuyerEmail": "tom.baker@example.org", "BuyerName": "Tom Baker"}
    hub_order(link, "203-3000003-0000003", "12.00", mug, days_ago=2, buyer=tom)
    hub_order(link, "203-3000004-0000004", "12.00", mug, days_ago=1)  # Amazon shared nothing

    counts = orders_build(link)
    assert counts.invoices == 4 and counts.held == 0
    drain(link, "invoice")

    posted = xero_invoices(link)
    first, second = posted["203-3000001-0000001"], posted["203-3000002-0000002"]
    assert first.contact_id == second.contact_id
    assert first.contact.name == "Jane Smith"
    assert first.contact.email == "Jane.Smith@example.co.uk"
    assert posted["203-3000003-0000003"].contact.name == "Tom Baker"
    assert posted["203-3000003-0000003"].contact.email == "tom.baker@example.org"
    assert posted["203-3000004-0000004"].contact.name == UK_CUSTOMERS
    assert posted["203-3000004-0000004"].contact.email == ""
    org = link.xero_tenant.tenant_id
    assert Contact.objects.filter(org__tenant_id=org, name__iexact="jane smith").count() == 1
    assert dict(BuyerContact.objects.filter(link=link).values_list("key", "contact_name")) == {
        "email:jane.smith@example.co.uk": "Jane Smith",
        "name:jane smith": "Jane Smith",
        "email:tom.baker@example.org": "Tom Baker",
        "name:tom baker": "Tom Baker",
    }


def test_without_per_buyer_contacts_every_order_goes_to_the_marketplace_contact(
    sandbox_url: str,
) -> None:
    link = xero_link(sandbox_url)
    mug = [api_item(UK, "MUG-1001-BLU", "Mug", price="12.00", tax="2.00")]
    jane = {"BuyerEmail": "jane.smith@example.co.uk", "BuyerName": "Jane Smith"}
    hub_order(link, "203-3000005-0000005", "12.00", mug, buyer=jane)

    orders_build(link)
    drain(link, "invoice")

    assert xero_invoices(link)["203-3000005-0000005"].contact.name == UK_CUSTOMERS
    assert not BuyerContact.objects.filter(link=link).exists()


def _xero_item_calls(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        str(r.args[1])
        for r in caplog.records
        if r.name == "connectors.http"
        and isinstance(r.args, tuple)
        and r.args[0] == "xero"
        and str(r.args[1]) in ("getItems", "createItems")
    ]


def test_missing_xero_items_are_created_once_and_invoice_lines_carry_their_codes(
    sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.http")
    link = xero_link(sandbox_url, create_items=True)
    too_long = "NWG-GIFT-CARD-HOLDER-LIMITED-EDITION"  # over Xero's 30 characters
    hub_order(
        link,
        "203-4000001-0000001",
        "42.50",
        [
            api_item(UK, "NW-MUG-BLU", "Stoneware mug, blue", price="12.50", tax="2.08"),
            api_item(UK, "LAM-1004-RED", "Table lamp, red", price="30.00", tax="5.00"),
        ],
    )
    hub_order(
        link,
        "203-4000002-0000002",
        "22.00",
        [
            api_item(
                UK, "CUP-1002-RED", "Espresso cup, red", quantity=2, price="18.00", tax="3.00"
            ),
            api_item(UK, too_long, "Gift card holder", price="4.00", tax="0.67"),
        ],
    )
    org = link.xero_tenant.tenant_id
    assert set(Item.objects.filter(org__tenant_id=org).values_list("code", flat=True)) == {
        "NW-MUG-BLU",
        "NW-THROW-GRY",
    }

    orders_build(link)
    assert _xero_item_calls(caplog) == ["getItems", "createItems"]
    made = {i.code: i for i in Item.objects.filter(org__tenant_id=org)}
    assert set(made) == {"NW-MUG-BLU", "NW-THROW-GRY", "LAM-1004-RED", "CUP-1002-RED"}
    lamp = made["LAM-1004-RED"]
    assert (lamp.name, lamp.is_sold, lamp.sales_details["AccountCode"]) == (
        "Table lamp, red",
        True,
        "200",
    )
    drain(link, "invoice")

    posted = xero_invoices(link)

    def codes(order_id: str) -> list[str | None]:
        return [ln.get("ItemCode") for ln in posted[order_id].data["LineItems"]]

    assert codes("203-4000001-0000001") == ["NW-MUG-BLU", "LAM-1004-RED"]
    assert codes("203-4000002-0000002") == ["CUP-1002-RED", None]
    assert posted["203-4000002-0000002"].total == Decimal("22.00")

    # The next order with those SKUs: no Items call at all, and its lines carry the codes.
    caplog.clear()
    lamp_stamp = lamp.updated_at
    hub_order(
        link,
        "203-4000003-0000003",
        "60.00",
        [api_item(UK, "LAM-1004-RED", "Table lamp, red", quantity=2, price="60.00", tax="10.00")],
        days_ago=1,
    )
    orders_build(link)
    assert _xero_item_calls(caplog) == []
    assert Item.objects.filter(org__tenant_id=org).count() == 4
    assert Item.objects.get(org__tenant_id=org, code="LAM-1004-RED").updated_at == lamp_stamp
    drain(link, "invoice")
    line = xero_invoices(link)["203-4000003-0000003"].data["LineItems"][0]
    assert (line["ItemCode"], Decimal(line["Quantity"]), Decimal(line["UnitAmount"])) == (
        "LAM-1004-RED",
        Decimal(2),
        Decimal("30.00"),
    )


# --------------------------------------------------------------------------- settlements first


def test_a_settlement_waits_for_orders_the_hub_has_not_read_then_builds(sandbox_url: str) -> None:
    link = seller_link(sandbox_url, orders=120, days=45)
    since = OrderSettings.objects.get(link=link).per_order_since
    assert since is not None

    _settlements_pulled(link)  # no order read yet

    waiting = list(
        Settlement.objects.filter(link=link, held_reason__startswith="Waiting for its orders: ")
    )
    assert waiting
    for settlement in waiting:
        assert settlement.state == Settlement.State.HELD
        assert "still being read from Amazon" in settlement.held_reason
        assert settlement.end > since
        assert not LedgerEntry.objects.filter(
            link=link, kind="payment", part__startswith=f"{settlement.settlement_id}:"
        ).exists()
    assert not AmazonOrder.objects.filter(link=link).exists()
    fetch = pull._active(link)
    assert fetch is not None and fetch.checkpoint["mode"] == "fetch"
    asked = set(OrderSettings.objects.get(link=link).fetch_ids)
    assert asked

    assert run_to_end(fetch).status == "done"
    fetched = AmazonOrder.objects.filter(link=link)
    assert asked <= set(fetched.values_list("amazon_order_id", flat=True))
    # Orders bought since per-order accounting began are invoiced (older ones stay in the
    # settlement's summary lines).
    invoiced = fetched.filter(status="Shipped", purchase_date__gte=since)
    assert invoiced.exists()
    assert all(o.invoice_entry_id for o in invoiced)
    _push_all(link)
    settlements_build_due(link)
    _push_all(link)

    for settlement in waiting:
        settlement.refresh_from_db()
        assert settlement.state == Settlement.State.BUILT, settlement.held_reason
        assert settlement.held_reason == ""
        assert _clearing(link, settlement) == settlement.total_amount, settlement.settlement_id
    paid = LedgerEntry.objects.filter(link=link, kind="payment", part__endswith=":paid")
    assert paid.exists() and set(paid.values_list("status", flat=True)) == {"posted"}
    posted = xero_invoices(link)
    for oid in paid.values_list("amazon_id", flat=True):
        assert posted[oid].status == "PAID" and posted[oid].amount_due == 0, oid

    # Everything posted: building again makes no ledger row and no Xero document.
    rows = LedgerEntry.objects.filter(link=link).count()
    documents = xero_documents(link)
    again = orders_build(link)
    assert again.created == 0 and again.invoices == again.skipped
    for settlement in Settlement.objects.filter(link=link):
        settlement_build(settlement)
    _push_all(link)
    assert LedgerEntry.objects.filter(link=link).count() == rows
    assert xero_documents(link) == documents
    assert set(LedgerEntry.objects.filter(link=link).values_list("status", flat=True)) == {"posted"}


def test_an_invoice_xero_refused_takes_the_remap_and_posts_when_retried(
    sandbox_url: str,
) -> None:
    from mappings.services import mapping_release_held
    from sync.ledger import entries_retry
    from tests.settlements.support import UK_GROUPS

    link = per_order_link(sandbox_url, seller=EU_SELLER, orders=40)
    mapping_store(link, mapping())
    OrderSettings.objects.filter(link=link).update(
        per_order_since=timezone.now() - timedelta(days=30)
    )
    assert run_to_end(pull.orders_pull_start(link)).status == "done"
    invoices = LedgerEntry.objects.filter(link=link, kind="invoice")
    refused = invoices.filter(status="pending").first()
    assert refused is not None
    xero_said = "Account code '200' has been archived, or has been deleted."
    LedgerEntry.objects.filter(pk=refused.pk).update(status="failed", last_error=xero_said)
    waiting = set(invoices.filter(status="pending").values_list("pk", flat=True))

    sales = {group: ("260", "OUTPUT2") for group in ("Sales", "Refunds", "Promotions")}
    mapping_store(link, mapping({**UK_GROUPS, **sales}))
    mapping_release_held(link)  # what saving the mapping page does
    refused.refresh_from_db()
    assert refused.status == "failed"
    assert (
        refused.last_error == f"{xero_said} Rebuilt with your new mapping: press Retry to send it."
    )
    codes = {line.get("AccountCode") for line in refused.payload["LineItems"]}
    assert "260" in codes and "200" not in codes
    assert set(invoices.filter(pk__in=waiting, status="pending").values_list("pk", flat=True)) == (
        waiting
    )

    assert entries_retry([refused]) == 1
    drain(link, "invoice")
    refused.refresh_from_db()
    assert refused.status == "posted"
    posted = Invoice.objects.get(invoice_id=refused.xero_id)
    assert "260" in {line["AccountCode"] for line in posted.data["LineItems"]}
