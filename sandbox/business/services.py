"""What happens to a sandbox Amazon Business account: import, purchases, payments, consent.

- ``account_create`` stores a generated buyer (`sandbox.datagen.business.generate_buyer`).
- ``card_add`` and ``purchase_add`` are the demo's and the tests' controls for "the buyer bought
  something else", e.g. with a card the hub has never seen and must ask to have mapped.
- ``invoice_mark_paid`` is the buyer paying a Pay by Invoice invoice.
- ``authorization_grant`` / ``authorization_revoke``: an administrator authorizing an app on the
  buyer store, and removing it again (its refresh tokens then fail with invalid_grant).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from sandbox.amazon.lwa import issue_authorization_code
from sandbox.amazon.models import LwaApp, LwaAuthCode, LwaRefreshToken
from sandbox.business.models import (
    PAYMENT_PROCESSING,
    Authorization,
    BusinessAccount,
    BusinessUser,
    Invoice,
    PaymentMethod,
    Transaction,
)
from sandbox.datagen.business import REGIONS, BuyerDataset
from sandbox.datagen.ids import ALNUM, UPPER_DIGITS, seeded, token

CENT = Decimal("0.01")
PAY_BY_INVOICE_TERMS = timedelta(days=30)  # the generator's "net 30"
CARD_TYPES = ("Visa", "MasterCard", "AmericanExpress", "Discover")


class NotAllowed(Exception):
    """The user may not do this (e.g. a non-administrator authorizing an app)."""


def iso_ms(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as the Reconciliation API writes its dates."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_seconds(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_api_date(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


# --------------------------------------------------------------------------- import


def account_create(
    *, account_id: str, name: str, dataset: BuyerDataset, seed: int
) -> BusinessAccount:
    """Store a generated buyer: users, payment methods, transactions and invoices."""
    region = REGIONS[dataset.region]
    with transaction.atomic():
        account = BusinessAccount.objects.create(
            account_id=account_id,
            name=name,
            region=dataset.region,
            marketplace_id=dataset.marketplace_id,
            currency=dataset.currency,
            legal_entity_name=region.legal_entity,
            seed=seed,
        )
        _users_create(account, dataset)
        PaymentMethod.objects.bulk_create(
            PaymentMethod(
                account=account,
                key=p.key,
                payment_instrument_type=p.payment_instrument_type,
                last4=p.last4 or "",
                label=p.label,
            )
            for p in dataset.payment_instruments
        )
        # In feed order, so the primary keys break ties between equal feed dates the same way
        # every time (getTransactions pages on feedDate, then id).
        Transaction.objects.bulk_create(_transaction_row(account, t) for t in dataset.transactions)
        Invoice.objects.bulk_create(
            Invoice(
                account=account,
                invoice_id=i.invoice_id,
                currency=i.currency,
                amount=i.amount,
                issued_at=i.issued,
                due_date=i.due_date,
                paid_at=i.paid_date,
                closed_at=i.paid_date + PAYMENT_PROCESSING if i.paid_date else None,
            )
            for i in dataset.invoice_payments
        )
    return account


def _users_create(account: BusinessAccount, dataset: BuyerDataset) -> None:
    """The buyers in the data become requisitioners; whoever pays the invoices is the admin."""
    buyers: dict[str, dict[str, str]] = {}
    payers: dict[str, dict[str, str]] = {}
    for t in dataset.transactions:
        buyers.setdefault(t["buyer"]["id"], t["buyer"])
        payers.setdefault(t["payer"]["id"], t["payer"])
    admins = [p for pid, p in payers.items() if pid not in buyers]
    if not admins:  # too few purchases for a Pay by Invoice one: make the administrator up
        rng = seeded("business-admin", account.account_id)
        domain = REGIONS[dataset.region].email_domain
        admins = [
            {
                "id": "amzn1.account." + token(rng, UPPER_DIGITS, 28),
                "name": "Accounts Payable",
                "email": f"ap@{domain}",
            }
        ]
    people = [(p, BusinessUser.Role.ADMIN) for p in admins] + [
        (p, BusinessUser.Role.REQUISITIONER) for p in sorted(buyers.values(), key=_by_name)
    ]
    BusinessUser.objects.bulk_create(
        BusinessUser(account=account, user_id=p["id"], name=p["name"], email=p["email"], role=role)
        for p, role in people
    )


def _by_name(person: dict[str, str]) -> str:
    return person["name"]


def _transaction_row(account: BusinessAccount, data: dict[str, Any]) -> Transaction:
    return Transaction(
        account=account,
        transaction_id=data["transactionId"],
        transaction_type=data["transactionType"],
        feed_date=parse_api_date(data["feedDate"]),
        transaction_date=parse_api_date(data["transactionDate"]),
        payment_instrument_type=data["paymentInstrumentType"],
        last4=data.get("paymentInstrumentLast4Digits", ""),
        amount=Decimal(data["amount"]["amount"]),
        currency=data["amount"]["currencyCode"],
        invoice_number=data.get("invoiceNumber", ""),
        order_id=next((i["orderId"] for i in data.get("transactionLineItems", [])), ""),
        data=data,
    )


# --------------------------------------------------------------------------- controls


def card_add(
    *, account: BusinessAccount, card_type: str = "Visa", last4: str | None = None
) -> PaymentMethod:
    """A card the buyer has just added to the account (no purchase with it yet)."""
    if card_type not in CARD_TYPES:
        raise ValueError(f"card type must be one of {', '.join(CARD_TYPES)}")
    taken = set(account.payment_methods.exclude(last4="").values_list("last4", flat=True))
    if last4 is None:
        rng = seeded("business-card", account.seed, account.account_id, len(taken))
        last4 = next(
            c for c in (f"{rng.randrange(10_000):04d}" for _ in range(1000)) if c not in taken
        )
    if len(last4) != 4 or not last4.isdigit():
        raise ValueError("last4 must be four digits")
    if last4 in taken:
        raise ValueError(f"the account already has a card ending {last4}")
    today = timezone.now().date().isoformat()
    return PaymentMethod.objects.create(
        account=account,
        key=f"card-{last4}",
        payment_instrument_type=card_type,
        last4=last4,
        label=f"{card_type} ending {last4} (added {today})",
    )


def purchase_add(
    *,
    account: BusinessAccount,
    method: PaymentMethod,
    lines: int = 1,
    at: datetime | None = None,
    feed_delay: timedelta = timedelta(0),
) -> Transaction:
    """One shipment bought now with ``method``: a CHARGE (and an invoice for Pay by Invoice).

    Products, their tax rates and the GL codes come from the account's earlier purchases so the
    new one looks like the rest. ``feed_delay`` is how long until getTransactions returns it
    (its feedDate); the real feed lags by minutes to hours.
    """
    if method.account_id != account.pk:
        raise ValueError("that payment method belongs to another account")
    if not 1 <= lines <= 10:
        raise ValueError("a purchase has 1 to 10 lines")
    at = at or timezone.now()
    region = REGIONS[account.region]
    with transaction.atomic():
        # Serialise additions per account: the seeded ids below count existing rows.
        BusinessAccount.objects.select_for_update().get(pk=account.pk)
        count = account.transactions.count()
        rng = seeded("business-purchase", account.seed, account.account_id, count)
        templates = _line_templates(account)
        requisitioners = list(account.users.filter(role=BusinessUser.Role.REQUISITIONER))
        admin = account.users.filter(role=BusinessUser.Role.ADMIN).first()
        person = rng.choice(requisitioners) if requisitioners else admin
        if person is None:
            raise ValueError("the account has no users to buy with")
        buyer = {"id": person.user_id, "name": person.name, "email": person.email}
        pay_by_invoice = method.key == "pay-by-invoice"
        payer = buyer
        if pay_by_invoice and admin is not None:
            payer = {"id": admin.user_id, "name": admin.name, "email": admin.email}

        order_id = (
            f"{rng.choice(region.order_id_prefixes)}-{rng.randrange(10**7):07d}"
            f"-{rng.randrange(10**7):07d}"
        )
        shipment_id = token(rng, ALNUM, 9)
        po = f"PO-{at.year}-S{count + 1:04d}"
        items = []
        total = Decimal(0)
        for k in range(lines):
            item = _line_item(rng, rng.choice(templates), account.currency, at)
            item.update(
                orderId=order_id,
                orderLineItemId=str(rng.randrange(10**13, 10**14)),
                shipmentId=shipment_id,
                purchaseOrderNumber=po,
                purchaseOrderLineItemId=str(k + 1),
            )
            total += Decimal(item["totalAmount"]["amount"])
            items.append(item)
        ship_rate = templates[0].get("_shipTaxRate", "0.00")
        data: dict[str, Any] = {
            "marketplaceId": account.marketplace_id,
            "transactionDate": iso_ms(at),
            "feedDate": iso_ms(at + feed_delay),
            "transactionType": "CHARGE",
            "transactionId": _unique_id(account, lambda: token(rng, ALNUM, 20)),
            "chargeIdentifier": token(rng, UPPER_DIGITS, 9),
            "shipTaxRate": ship_rate,
            "giftWrapTaxRate": ship_rate,
            "legalEntityName": account.legal_entity_name,
            "purchasingCustomerGroupName": _group_of(account, person.user_id),
            "invoiceNumber": region.country + token(rng, UPPER_DIGITS, 10),
            "amount": _money(total, account.currency),
            "paymentInstrumentType": method.payment_instrument_type,
            **({"paymentInstrumentLast4Digits": method.last4} if method.last4 else {}),
            "buyer": buyer,
            "payer": payer,
            "transactionLineItems": items,
        }
        row = _transaction_row(account, data)
        row.save()
        if pay_by_invoice:
            due = datetime.combine(
                (at + PAY_BY_INVOICE_TERMS).astimezone(UTC).date(), time(23, 59, 59), tzinfo=UTC
            )
            Invoice.objects.create(
                account=account,
                invoice_id=data["invoiceNumber"],
                currency=account.currency,
                amount=total,
                issued_at=at,
                due_date=due,
            )
    return row


def _line_templates(account: BusinessAccount) -> list[dict[str, Any]]:
    """Distinct products from earlier charges (by ASIN), oldest first, with their ship rate."""
    seen: dict[str, dict[str, Any]] = {}
    rows = account.transactions.filter(transaction_type="CHARGE").order_by("feed_date", "id")
    for data in rows.values_list("data", flat=True)[:500]:
        for item in data.get("transactionLineItems", []):
            if item.get("asin") and item["asin"] not in seen:
                seen[item["asin"]] = dict(item, _shipTaxRate=data.get("shipTaxRate", "0.00"))
    if not seen:
        rate = "0.0825" if account.region == "US" else "0.20"
        seen["B0SANDBOX1"] = {
            "asin": "B0SANDBOX1",
            "productTitle": "Copy Paper, Letter, 5 Reams",
            "unspsc": "14111507",
            "unitPrice": {"currencyCode": account.currency, "amount": "38.99"},
            "taxRate": rate,
            "merchantLegalName": REGIONS[account.region].amazon_legal_name,
            "businessOrderInfo": {"GL code": "6400-office-supplies", "Cost center": ""},
            "_shipTaxRate": rate,
        }
    return list(seen.values())


def _line_item(
    rng: random.Random, template: dict[str, Any], currency: str, at: datetime
) -> dict[str, Any]:
    quantity = 1 + rng.randrange(3)
    unit = Decimal(template["unitPrice"]["amount"])
    principal = unit * quantity
    tax = (principal * Decimal(template["taxRate"])).quantize(CENT, ROUND_HALF_UP)
    zero = Decimal("0.00")
    return {
        "totalAmount": _money(principal + tax, currency),
        "principalAmount": _money(principal, currency),
        "shippingCharge": _money(zero, currency),
        "giftWrappingCharge": _money(zero, currency),
        "discount": _money(zero, currency),
        "tax": _money(tax, currency),
        "unitPrice": _money(unit, currency),
        "taxRate": template["taxRate"],
        "unspsc": template["unspsc"],
        "asin": template["asin"],
        "productTitle": template["productTitle"],
        "itemQuantity": quantity,
        "shipmentDate": iso_seconds(at),
        "merchantLegalName": template["merchantLegalName"],
        "businessOrderInfo": dict(template.get("businessOrderInfo", {})),
    }


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"currencyCode": currency, "amount": f"{amount.quantize(CENT):.2f}"}


def _unique_id(account: BusinessAccount, make: Callable[[], str]) -> str:
    while True:
        value = make()
        if not account.transactions.filter(transaction_id=value).exists():
            return value


def _group_of(account: BusinessAccount, user_id: str) -> str:
    earlier = account.transactions.filter(data__buyer__id=user_id).values_list("data", flat=True)
    data = earlier.first()
    return str(data.get("purchasingCustomerGroupName", "Operations")) if data else "Operations"


def invoice_mark_paid(
    *, invoice: Invoice, at: datetime | None = None, processing: bool = False
) -> Invoice:
    """The buyer pays the invoice: Closed at once, or Payment Processing for two days first."""
    at = at or timezone.now()
    if invoice.closed_at is not None and invoice.closed_at <= at:
        return invoice  # already paid and closed: paying twice changes nothing
    invoice.paid_at = at
    invoice.closed_at = at + PAYMENT_PROCESSING if processing else at
    invoice.save(update_fields=["paid_at", "closed_at"])
    return invoice


# --------------------------------------------------------------------------- authorization


def authorization_grant(*, user: BusinessUser, app: LwaApp, redirect_uri: str) -> str:
    """An administrator allows ``app``: record it and return the authorization code."""
    if not user.may_authorize_apps:
        raise NotAllowed(
            "Only an administrator for all legal entities of this business account can "
            "authorize apps."
        )
    if app.kind != LwaApp.Kind.BUSINESS:
        raise ValueError("only Amazon Business applications are authorized on the buyer store")
    with transaction.atomic():
        Authorization.objects.create(
            account=user.account, user=user, app=app, redirect_uri=redirect_uri
        )
        return issue_authorization_code(
            app=app,
            redirect_uri=redirect_uri,
            subject_kind="business",
            subject_id=user.account.account_id,
        )


def authorization_revoke(*, authorization: Authorization) -> int:
    """Remove the app from the account, as the administrator would; returns tokens revoked.

    Every refresh token the app holds for the account stops working (invalid_grant on refresh,
    and its access tokens are refused), and codes not yet exchanged can no longer be.
    """
    now = timezone.now()
    account_id = authorization.account.account_id
    with transaction.atomic():
        Authorization.objects.filter(
            account=authorization.account, app=authorization.app, revoked_at=None
        ).update(revoked_at=now)
        LwaAuthCode.objects.filter(
            app=authorization.app,
            subject_kind="business",
            subject_id=account_id,
            used_at=None,
        ).update(used_at=now)
        return LwaRefreshToken.objects.filter(
            app=authorization.app,
            subject_kind="business",
            subject_id=account_id,
            revoked_at=None,
        ).update(revoked_at=now)
