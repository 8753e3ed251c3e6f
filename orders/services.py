"""Per-order accounting: orders become invoices, settlements become their payments.

What other parts call:
- ``orders_build``: the link's shipped orders (read by ``orders.pull``) become one sales invoice
  each through ``ledger_upsert``, committed 50 at a time so that a push running meanwhile sends
  whole batches; a cancelled order that was never sent is dropped from the ledger, one that was
  posted is voided in Xero. Each invoice is checked against Amazon's order total; a difference
  is kept on the order with its reason and shown on the orders page.
- ``settlement_per_order``: registered with the settlements as their builder when the link
  accounts per order. The settlement's rows that belong to orders (what buyers paid, what they
  got back) become a payment of each order's invoice and a credit note per refund. A refund of
  an order the same settlement pays is allocated to its invoice (the payment is then the net
  amount); any other refund (its invoice was paid before, and Xero cannot allocate to a paid
  invoice) is refunded by a payment. Payments are from the clearing account on the deposit
  date; every other row
  (Amazon's fees, withheld tax, reserves, …) goes through the settlement summary transform into
  one bill (or invoice) paid the same way. Together the payments equal the deposit, so the
  clearing account nets to it exactly. A settlement that mentions an order the hub has not read
  or invoiced yet waits (held, with the order ids) and asks the pull for those orders.
- ``mode_save``: switching a link between settlement summary and per order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from connectors import http
from connectors.models import Link
from connectors.xero.accounting import XeroAccounting
from mappings.categories_seller import SALES
from mappings.chart import Chart
from mappings.resolve import MappingSet
from mappings.services import CHART_MAX_AGE, categories_seen, chart_for, mapping_set_for
from mappings.transforms import orders as transform
from mappings.transforms.settlement import (
    SettlementAmount as AmountInput,
)
from mappings.transforms.settlement import (
    SettlementInput,
    SettlementOptions,
    marketplace_id,
    settlement_documents,
)
from orders.models import AccountingMode, AmazonOrder, BuyerContact, OrderSettings
from sync.ledger import ledger_upsert, refused_kept
from sync.models import Attempt, EntryStatus, LedgerEntry, Run
from sync.push import BATCH_SIZE
from sync.queue import push_enqueue

log = logging.getLogger(__name__)

UNSENT = (EntryStatus.PENDING, EntryStatus.HELD, EntryStatus.FAILED)
INVOICED_STATUSES = ("Shipped",)
ITEMS_MAX_AGE = timedelta(hours=6)
ITEMS_BATCH = 50


class OrdersError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def settings_for(link: Link) -> OrderSettings:
    found, _ = OrderSettings.objects.get_or_create(link=link)
    return found


def per_order(link: Link) -> bool:
    return OrderSettings.objects.filter(link=link, mode=AccountingMode.PER_ORDER).exists()


# --------------------------------------------------------------------------- the mode


def last_summary_end(link: Link) -> datetime | None:
    """The end of the last settlement posted as a summary: per order starts after it."""
    from settlements.models import Settlement, SettlementDocument

    posted = SettlementDocument.objects.filter(
        settlement__link=link, entry__status__in=[EntryStatus.POSTED, EntryStatus.SENDING]
    ).values_list("settlement_id", flat=True)
    found = Settlement.objects.filter(pk__in=posted).order_by("-end").first()
    return found.end if found is not None else None


def mode_save(
    link: Link,
    *,
    mode: str,
    since: date | None = None,
    contact_per_buyer: bool = False,
    create_items: bool = False,
) -> OrderSettings:
    """Switch the accounting mode; per order starts on ``since`` (never inside posted history)."""
    if link.seller_account is None:
        raise OrdersError("Per-order accounting needs a Seller Central connection on this link.")
    options = settings_for(link)
    if mode not in AccountingMode.values:
        raise OrdersError("Choose settlement summary or per order.")
    if mode == AccountingMode.PER_ORDER:
        start = (
            datetime.combine(since, datetime.min.time(), tzinfo=UTC)
            if since
            else options.per_order_since or timezone.now() - timedelta(days=30)
        )
        boundary = last_summary_end(link)
        if boundary is not None and start < boundary:
            raise OrdersError(
                f"Settlements up to {boundary:%d %b %Y} are already posted as summaries, which "
                f"include their orders: start per-order accounting on {boundary:%d %b %Y} or "
                "later, or roll those settlements back first."
            )
        options.per_order_since = start
    options.mode = mode
    options.contact_per_buyer = contact_per_buyer
    options.create_items = create_items
    options.save()
    return options


# --------------------------------------------------------------------------- contacts, items


def order_input(order: AmazonOrder) -> transform.OrderInput:
    data = dict(order.data)
    data.setdefault("AmazonOrderId", order.amazon_order_id)
    data.setdefault("MarketplaceId", order.marketplace_id)
    data.setdefault("SalesChannel", order.sales_channel)
    data.setdefault("OrderStatus", order.status)
    parsed = transform.order_from_api(data, order.items or [], purchase_date=order.purchase_date)
    if not parsed.currency and order.currency:
        parsed = transform.OrderInput(**{**parsed.__dict__, "currency": order.currency})
    return parsed


def contact_for(link: Link, order: transform.OrderInput, options: OrderSettings) -> str:
    """Per buyer when asked and Amazon named them (de-duplicated), else per marketplace."""
    default = transform.default_contact(order.marketplace_id, order.sales_channel)
    if not options.contact_per_buyer or not (order.buyer_email or order.buyer_name):
        return default
    keys = []
    if order.buyer_email:
        keys.append(f"email:{order.buyer_email.strip().casefold()}")
    if order.buyer_name:
        keys.append(f"name:{transform.normalised_name(order.buyer_name)}")
    found = BuyerContact.objects.filter(link=link, key__in=keys).first()
    name = found.contact_name if found is not None else (order.buyer_name or order.buyer_email)
    for key in keys:
        BuyerContact.objects.get_or_create(
            link=link, key=key, defaults={"contact_name": name, "email": order.buyer_email}
        )
    return name


def item_codes(link: Link, options: OrderSettings) -> frozenset[str]:
    """The organisation's Item codes (one GET /Items, at most every few hours)."""
    fresh = options.items_read_at and timezone.now() - options.items_read_at < ITEMS_MAX_AGE
    if not fresh:
        try:
            body = XeroAccounting(link.xero_tenant).get("/Items", "getItems")
        except http.ProviderError as exc:
            log.warning("items not read link=%s: %s", link.pk, exc.message)
            return frozenset(options.item_codes or [])
        codes = sorted({str(i.get("Code")) for i in body.get("Items") or [] if i.get("Code")})
        OrderSettings.objects.filter(pk=options.pk).update(
            item_codes=codes, items_read_at=timezone.now()
        )
        options.item_codes, options.items_read_at = codes, timezone.now()
    return frozenset(options.item_codes or [])


def items_create(
    link: Link, options: OrderSettings, wanted: dict[str, str], sales_account: str
) -> frozenset[str]:
    """Create Xero Items for SKUs that have none (option ``create_items``); returns all codes."""
    codes = set(options.item_codes or [])
    known = {c.casefold() for c in codes}
    todo = [
        (sku, title)
        for sku, title in sorted(wanted.items())
        if sku.casefold() not in known and len(sku) <= transform.ITEM_CODE_MAX
    ]
    client = XeroAccounting(link.xero_tenant)
    for start in range(0, len(todo), ITEMS_BATCH):
        chunk = todo[start : start + ITEMS_BATCH]
        body = {
            "Items": [
                {
                    "Code": sku,
                    "Name": title[:50],
                    "Description": title[:4000],
                    "IsSold": True,
                    "SalesDetails": {"AccountCode": sales_account} if sales_account else {},
                }
                for sku, title in chunk
            ]
        }
        try:
            response = client.request(
                "createItems", "PUT", "/Items", params={"summarizeErrors": "false"}, json=body
            )
        except http.ProviderError as exc:
            log.warning("items not created link=%s: %s", link.pk, exc.message)
            break
        for element in response.json().get("Items") or []:
            if not element.get("HasErrors") and element.get("Code"):
                codes.add(str(element["Code"]))
    OrderSettings.objects.filter(pk=options.pk).update(item_codes=sorted(codes))
    options.item_codes = sorted(codes)
    return frozenset(codes)


# --------------------------------------------------------------------------- invoices


@dataclass
class Counts:
    invoices: int = 0
    created: int = 0
    skipped: int = 0
    held: int = 0
    voided: int = 0
    dropped: int = 0
    differences: int = 0
    waiting: int = 0
    notes: list[str] = field(default_factory=list)


def orders_build(
    link: Link,
    *,
    run: Run | None = None,
    order_ids: list[str] | None = None,
    chart: Chart | None = None,
) -> Counts:
    """Put the link's shipped orders in the ledger as invoices; handle cancellations."""
    counts = Counts()
    options = settings_for(link)
    if not options.per_order:
        return counts
    orders = AmazonOrder.objects.filter(link=link).select_related("invoice_entry")
    if options.per_order_since:
        orders = orders.filter(purchase_date__gte=options.per_order_since)
    if order_ids is not None:
        orders = orders.filter(amazon_order_id__in=order_ids)
    todo = list(orders.order_by("purchase_date", "pk"))
    if not todo:
        return counts
    if chart is None:
        chart = chart_for(link.xero_tenant, max_age=CHART_MAX_AGE).chart
    mapping = mapping_set_for(link)
    shipped = [o for o in todo if o.status in INVOICED_STATUSES]
    codes = item_codes(link, options) if shipped else frozenset()
    if options.create_items and shipped:
        wanted: dict[str, str] = {}
        for order in shipped:
            for item in order.items or []:
                if item.get("SellerSKU") and int(item.get("QuantityOrdered") or 0):
                    wanted.setdefault(str(item["SellerSKU"]), str(item.get("Title") or ""))
        target = mapping.target(SALES.key)
        known = {c.casefold() for c in codes}
        if any(sku.casefold() not in known for sku in wanted):
            codes = items_create(link, options, wanted, target.account_code if target else "")
    met: dict[str, Any] = {}
    for order in todo:
        if order.status in ("Canceled", "Cancelled"):
            _cancel(order, counts)
        elif order.status not in INVOICED_STATUSES:
            counts.waiting += 1
    for start in range(0, len(shipped), BATCH_SIZE):
        # One transaction per batch of invoices: a push running while the build goes on (the
        # dispatcher's, or one queued before) takes whole batches of 50, not the few rows
        # written since its last look, which would cost Xero a call each.
        with transaction.atomic():
            for order in shipped[start : start + BATCH_SIZE]:
                _invoice_put(link, order, options, mapping, chart, codes, run, counts, met)
    categories_seen(link, met.values())
    if counts.invoices:
        push_enqueue(link_id=link.pk, kind="invoice")
    return counts


def _invoice_put(
    link: Link,
    order: AmazonOrder,
    options: OrderSettings,
    mapping: MappingSet,
    chart: Chart,
    codes: frozenset[str],
    run: Run | None,
    counts: Counts,
    met: dict[str, Any],
) -> None:
    """One shipped order's invoice into the ledger, checked against Amazon's total."""
    parsed = order_input(order)
    try:
        document = transform.order_invoice(
            parsed,
            mapping,
            chart,
            contact=contact_for(link, parsed, options),
            item_codes=codes,
        )
    except transform.TotalsMismatch as exc:
        log.exception("order not built link=%s order=%s", link.pk, order.amazon_order_id)
        counts.notes.append(str(exc))
        return
    for category in document.categories:
        met.setdefault(category.key, category)
    upserted = ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id=order.amazon_order_id,
        payload=document.payload,
        total=document.total,
        currency=parsed.currency,
        lookup_number=document.number,
        held_reason=document.held_reason,
        run=run,
    )
    counts.invoices += 1
    counts.created += upserted.created
    counts.skipped += upserted.skipped
    counts.held += bool(document.held_reason)
    counts.differences += bool(document.difference)
    AmazonOrder.objects.filter(pk=order.pk).update(
        invoice_entry=upserted.entry,
        difference=document.difference if document.difference else None,
        check_note=document.check_note,
    )


def _cancel(order: AmazonOrder, counts: Counts) -> None:
    """Cancelled before posting: nothing is posted. Posted already: voided in Xero."""
    entry = order.invoice_entry
    if entry is None:
        return
    entry.refresh_from_db()
    if entry.status in UNSENT:
        with transaction.atomic():
            AmazonOrder.objects.filter(pk=order.pk).update(invoice_entry=None)
            LedgerEntry.objects.filter(pk=entry.pk, status__in=UNSENT).delete()
        counts.dropped += 1
    elif entry.status == EntryStatus.POSTED:
        from sync.tasks import rollback_entries_task

        if Attempt.objects.filter(entry=entry, outcome="rollback-refused").exists():
            # Xero refused to void it: its words stay on the row for the user; not asked again.
            return

        family = list(
            LedgerEntry.objects.filter(
                link_id=entry.link_id, amazon_id=entry.amazon_id, status=EntryStatus.POSTED
            ).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: rollback_entries_task.delay(family))
        counts.voided += 1


# --------------------------------------------------------------------------- settlements


@dataclass
class _OrderRows:
    day: date
    amount: Decimal = Decimal("0.00")


def _rest_key(row: Any) -> tuple[Any, ...]:
    return (
        row.posted_date,
        row.transaction_type,
        row.amount_type,
        row.amount_description,
        row.marketplace_name,
    )


@dataclass(frozen=True)
class _Document:
    """One document a per-order settlement puts in the ledger; parent and target are keys
    ("invoice:<order id>", "credit_note:<part>") of documents it needs posted first."""

    kind: str
    amazon_id: str
    part: str
    payload: dict[str, Any]
    total: Decimal
    number: str = ""
    reference: str = ""
    parent: str = ""
    target: str = ""


def _invoice_settled(link: Link, oid: str, sid: str) -> Decimal:
    """What other settlements already paid or credited on the order's invoice."""
    live = LedgerEntry.objects.filter(link=link, amazon_id=oid).exclude(status=EntryStatus.VOIDED)
    paid = (
        live.filter(kind="payment")
        .exclude(part=f"{sid}:paid")
        .exclude(part__contains=":refund:")
        .aggregate(s=Sum("total"))["s"]
    )
    credited = (
        live.filter(kind="allocation")
        .exclude(part__startswith=f"{sid}:")
        .aggregate(s=Sum("total"))["s"]
    )
    return (paid or Decimal("0.00")) + (credited or Decimal("0.00"))


def _refunded_by_payment(link: Link, oid: str, parts: list[str]) -> bool:
    """These refunds went out as payments before (a settlement built before allocations, or
    posted then): they stay so, since Xero cannot also allocate them to a paid invoice."""
    rows = LedgerEntry.objects.filter(link=link, amazon_id=oid, part__in=parts)
    sent = rows.filter(kind="payment", status__in=[EntryStatus.POSTED, EntryStatus.SENDING])
    return sent.exists() and not rows.filter(kind="allocation").exists()


def settlement_per_order(settlement: Any, *, chart: Chart, run: Run | None, sent: bool) -> Any:
    """Build a settlement of a per-order link (see the module docstring); None: not per order."""
    from settlements import services as settling
    from settlements.models import Settlement
    from settlements.parser import settlement_rows

    link = settlement.link
    options = OrderSettings.objects.filter(link=link).first()
    if options is None:
        return None
    # Switched back to summaries: orders invoiced while per order was on still get their
    # payments here (a summary would count their sales a second time); the rest is a summary.
    switched_back = not options.per_order
    if (
        switched_back
        and not AmazonOrder.objects.filter(link=link, invoice_entry__isnull=False).exists()
    ):
        return None
    since = options.per_order_since
    if since is not None and settlement.end <= since:
        return None  # before per-order accounting began: a summary, as it was
    with settling.file_open(settling._best_file(settlement)) as stream:
        rows = list(settlement_rows(stream))
    charge_rows = [
        r
        for r in rows
        if r.order_id and transform.is_buyer_charge(r.transaction_type, r.amount_type)
    ]
    ids = sorted({r.order_id for r in charge_rows})
    known = {
        o.amazon_order_id: o
        for o in AmazonOrder.objects.filter(link=link, amazon_order_id__in=ids).select_related(
            "invoice_entry"
        )
    }
    mine: set[str] = set()
    unread: list[str] = []
    uninvoiced: list[str] = []
    for oid in ids:
        order = known.get(oid)
        if order is None:
            first = min(r.posted_date for r in charge_rows if r.order_id == oid)
            if switched_back or (since is not None and first < since.date().isoformat()):
                continue  # sold outside per-order accounting: stays in the summary lines
            unread.append(oid)
        elif since is not None and order.purchase_date < since:
            continue
        elif order.invoice_entry is None:
            if not switched_back:
                uninvoiced.append(oid)
        else:
            mine.add(oid)
    if switched_back and not mine:
        return None
    if unread or uninvoiced:
        return _wait_for_orders(settlement, unread, uninvoiced)

    mapping = mapping_set_for(link)
    deposit_day = (settlement.deposit_date or settlement.end).astimezone(UTC).date()
    sid = settlement.settlement_id
    sales: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    refunds: dict[tuple[str, str], list[Any]] = defaultdict(list)
    rest: dict[tuple[Any, ...], Decimal] = defaultdict(lambda: Decimal("0.00"))
    rest_rows: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        if row.order_id in mine and transform.is_buyer_charge(
            row.transaction_type, row.amount_type
        ):
            if transform.is_refund(row.transaction_type):
                refunds[(row.order_id, row.adjustment_id or "")].append(row)
            else:
                sales[row.order_id] += row.amount
            continue
        rest[_rest_key(row)] += row.amount
        rest_rows[_rest_key(row)] += 1

    held: list[str] = []
    documents: list[_Document] = []
    # Refunds first: an order its settlement also pays has them allocated to its invoice.
    notes: dict[str, list[tuple[str, Decimal, str]]] = defaultdict(list)  # oid: (part, total, ref)
    for (oid, adjustment), found in sorted(refunds.items()):
        order = known[oid]
        invoice = order.invoice_entry
        assert invoice is not None
        first_day = min(r.posted_date for r in found)
        part = f"{sid}:refund:{adjustment or first_day}"[:40]
        refund = transform.RefundInput(
            amazon_order_id=oid,
            part=(adjustment or sid)[-12:],
            marketplace_id=order.marketplace_id,
            sales_channel=order.sales_channel,
            currency=settlement.currency,
            posted=date.fromisoformat(first_day),
            rows=tuple(
                transform.RefundRow(r.amount_type, r.amount_description, r.amount, r.sku)
                for r in found
            ),
        )
        if refund.amount <= 0:
            for row in found:
                rest[_rest_key(row)] += row.amount
                rest_rows[_rest_key(row)] += 1
            continue
        contact = (invoice.payload.get("Contact") or {}).get("Name") or transform.default_contact(
            order.marketplace_id, order.sales_channel
        )
        note = transform.refund_credit_note(refund, mapping, chart, contact=contact)
        held.extend(note.held_reasons)
        categories_seen(link, note.categories)
        documents.append(_Document("credit_note", oid, part, note.payload, note.total, note.number))
        notes[oid].append((part, note.total, refund.part))

    def clearing_payment(
        oid: str, part: str, amount: Decimal, reference: str, parent: str
    ) -> _Document:
        """A payment of a document (``parent``) from the clearing account on the deposit day."""
        payload = transform.payment(
            amount=amount,
            day=deposit_day,
            clearing_account=mapping.clearing_account,
            reference=reference,
        )
        return _Document("payment", oid, part, payload, amount, reference=reference, parent=parent)

    paid_total = Decimal("0.00")
    allocated: dict[str, Decimal] = {}  # credit note part: amount allocated to its invoice
    for oid in sorted(sales):
        order = known[oid]
        invoice = order.invoice_entry
        assert invoice is not None
        amount = sales[oid]
        due = invoice.total - _invoice_settled(link, oid, sid)
        # Xero allocates only to an invoice that still owes, in its currency; a refund of an
        # order this settlement does not pay is refunded by a payment below.
        credit = sum((total for _, total, _ in notes.get(oid, [])), Decimal("0.00"))
        allocate = Decimal("0.00")
        if (
            credit
            and invoice.currency in ("", settlement.currency)
            and not _refunded_by_payment(link, oid, [p for p, _, _ in notes[oid]])
        ):
            allocate = max(min(credit, due, amount), Decimal("0.00"))
        net = amount - allocate
        pay = max(min(net, due - allocate), Decimal("0.00"))
        if pay != net:
            # Amazon settled more (or less) than the invoice still owes: the rest posts with the
            # settlement's other lines, and the order says why.
            extra = net - pay
            key = (deposit_day.isoformat(), "Order", "ItemPrice", "Principal", order.sales_channel)
            rest[key] += extra
            rest_rows[key] += 1
            AmazonOrder.objects.filter(pk=order.pk).update(
                check_note=(
                    f"Settlement {sid} paid {transform._money(amount)} for this order; its "
                    f"invoice still owed {transform._money(due)}. The difference posted with "
                    "the settlement's other lines."
                )
            )
        if pay > 0:
            documents.append(
                clearing_payment(
                    oid,
                    f"{sid}:paid",
                    pay,
                    f"Amazon settlement {sid} order {oid}",
                    f"invoice:{oid}",
                )
            )
            paid_total += pay
        for part, total, _ in notes.get(oid, []):
            share = min(total, allocate)
            if share > 0:
                allocated[part] = share
                allocate -= share

    refunded_total = allocated_total = Decimal("0.00")
    for oid, made in sorted(notes.items()):
        for part, total, refund_part in made:
            share = allocated.get(part, Decimal("0.00"))
            if share > 0:
                documents.append(
                    _Document(
                        "allocation",
                        oid,
                        part,
                        transform.allocation(amount=share, day=deposit_day),
                        share,
                        parent=f"credit_note:{part}",
                        target=f"invoice:{oid}",
                    )
                )
                allocated_total += share
            if total - share <= 0:
                continue
            # What no invoice of this settlement can take: refunded from the clearing account.
            reference = f"Amazon settlement {sid} refund {oid} {refund_part}"
            documents.append(
                clearing_payment(oid, part, total - share, reference, f"credit_note:{part}")
            )
            refunded_total += total - share

    rest_input = SettlementInput(
        settlement_id=sid,
        currency=settlement.currency,
        start=settlement.start,
        end=settlement.end,
        deposit_date=settlement.deposit_date,
        total_amount=sum(rest.values(), Decimal("0.00")),
        marketplace=settlement.marketplace,
        amounts=tuple(
            AmountInput(
                day=date.fromisoformat(k[0]),
                transaction_type=k[1],
                amount_type=k[2],
                amount_description=k[3],
                marketplace=k[4],
                sku="",
                amount=v,
                rows=rest_rows[k],
            )
            for k, v in rest.items()
        ),
    )
    settlement_options = settling.settings_for(link)
    plan = settlement_documents(
        rest_input,
        mapping,
        chart,
        SettlementOptions(split_month_end=settlement_options.split_month_end),
    )
    if not mapping.clearing_account and (paid_total or refunded_total):
        held.append(
            "Choose the clearing account Amazon deposits are paid into, so each order's invoice "
            "reads paid and the settlement matches its bank line."
        )
    rest_paid = sum(
        (
            Decimal(d.payment["Amount"]) * (1 if d.kind == "invoice" else -1)
            for d in plan.documents
            if d.payment is not None
        ),
        Decimal("0.00"),
    )
    if not held and not plan.held_reasons:
        clearing = paid_total - refunded_total + rest_paid
        if clearing != settlement.total_amount:
            raise transform.TotalsMismatch(
                f"settlement {sid}: order payments {paid_total}, refund payments "
                f"{refunded_total}, other lines {rest_paid} do not add up to the deposit "
                f"{settlement.total_amount}"
            )
    credit_notes = [d for d in documents if d.kind == "credit_note"]
    summary = (
        f"Per order: {len(sales)} order payment(s) of {transform._money(paid_total)}, "
        f"{len(credit_notes)} refund(s) of "
        f"{transform._money(sum((d.total for d in credit_notes), Decimal('0.00')))} "
        f"{settlement.currency} ({transform._money(allocated_total)} allocated to the orders' "
        "invoices); Amazon's fees and other lines are on the settlement's own document."
    )
    plan = replace(
        plan,
        held_reasons=tuple(dict.fromkeys([*plan.held_reasons, *held])),
        notes=(*plan.notes, summary),
    )
    held_reason = plan.held_reason
    categories_seen(link, plan.categories.values())
    with transaction.atomic():
        built = settling._ledger_write(settlement, plan, sent=sent, run=run)
        parents: dict[str, LedgerEntry] = {}
        for oid in mine:
            invoice_entry = known[oid].invoice_entry
            if invoice_entry is not None:
                parents[f"invoice:{oid}"] = invoice_entry
        # Order rows of an earlier build that this one no longer makes (a refund payment that
        # is now an allocation, say): removed while they were never sent.
        wanted = {(d.kind, d.amazon_id, d.part) for d in documents}
        stale = [
            e.pk
            for e in LedgerEntry.objects.filter(
                link=link,
                kind__in=("payment", "credit_note", "allocation"),
                part__startswith=f"{sid}:",
                status__in=UNSENT,
            ).exclude(amazon_id=sid)
            if (e.kind, e.amazon_id, e.part) not in wanted
        ]
        LedgerEntry.objects.filter(pk__in=stale).delete()
        for doc in documents:
            upserted = ledger_upsert(
                link=link,
                kind=doc.kind,
                amazon_id=doc.amazon_id,
                part=doc.part,
                payload=doc.payload,
                total=doc.total,
                currency=settlement.currency,
                lookup_number=doc.number,
                lookup_reference=doc.reference,
                parent=parents.get(doc.parent) if doc.parent else None,
                target=parents.get(doc.target) if doc.target else None,
                held_reason=held_reason,
                run=run,
            )
            if doc.kind == "credit_note":
                parents[f"credit_note:{doc.part}"] = upserted.entry
            built.created += upserted.created
            built.skipped += upserted.skipped
    if built.state != Settlement.State.HELD:
        for kind in ("invoice", "bill", "credit_note", "payment", "allocation"):
            push_enqueue(link_id=link.pk, kind=kind)
    return built


def _wait_for_orders(settlement: Any, unread: list[str], uninvoiced: list[str]) -> Any:
    """Hold the settlement until its orders are read and invoiced; ask the pull for them."""
    from settlements.models import Settlement
    from settlements.services import Built

    parts = []
    if unread:
        parts.append(
            f"{len(unread)} order(s) in it are still being read from Amazon "
            f"({', '.join(unread[:3])}{'…' if len(unread) > 3 else ''})"
        )
        try:
            from orders.pull import orders_fetch_start

            orders_fetch_start(settlement.link, unread)
        except Exception as exc:  # the settlement stays held and asks again next time
            log.warning("orders not requested settlement=%s: %s", settlement.pk, exc)
    if uninvoiced:
        parts.append(
            f"{len(uninvoiced)} order(s) in it have no invoice yet "
            f"({', '.join(uninvoiced[:3])}{'…' if len(uninvoiced) > 3 else ''}): they are "
            "invoiced once Amazon marks them shipped"
        )
    reason = "Waiting for its orders: " + "; ".join(parts) + "."
    Settlement.objects.filter(pk=settlement.pk).update(
        state=Settlement.State.HELD, held_reason=reason
    )
    settlement.state, settlement.held_reason = Settlement.State.HELD, reason
    return Built(settlement, Settlement.State.HELD, reason)


def clearing_balance(link: Link, settlement_id: str) -> Decimal:
    """What the settlement's payments put in the clearing account (ledger view)."""
    rows = LedgerEntry.objects.filter(link=link, kind="payment").filter(
        Q(amazon_id=settlement_id) | Q(part__startswith=f"{settlement_id}:")
    )
    total = Decimal("0.00")
    for entry in rows.select_related("parent"):
        parent_kind = entry.parent.kind if entry.parent is not None else "invoice"
        total += entry.total * (1 if parent_kind == "invoice" else -1)
    return total


def marketplace_of(name: str) -> str:
    return marketplace_id(name)


def orders_rebuild(link: Link) -> int:
    """After a remap: held invoices are built again (and released when now complete); ones
    Xero refused take the new accounts too but stay failed until the user retries them."""
    if not per_order(link):
        return 0
    stuck = list(
        AmazonOrder.objects.filter(
            link=link, invoice_entry__status__in=[EntryStatus.HELD, EntryStatus.FAILED]
        ).values_list("amazon_order_id", "invoice_entry_id")
    )
    if not stuck:
        return 0
    with refused_kept(entry for _, entry in stuck if entry is not None):
        return orders_build(link, order_ids=[oid for oid, _ in stuck]).invoices
