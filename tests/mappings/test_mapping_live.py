"""Mapping against the sandbox's seeded Xero organisations: suggestions, live validation, remap
needed before a push, held documents released, recommended accounts, templates."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from connectors.models import AmazonSellerAccount, Link
from mappings import services
from mappings.categories import unmapped_category
from mappings.models import CategoryMapping, ChartCache, MappingSettings, SeenItem
from mappings.resolve import Target
from mappings.services import MappingError, MappingInput
from sandbox.xero.models import Account, Currency, Invoice, Organisation
from sync.ledger import ledger_upsert
from sync.models import EntryStatus, LedgerEntry
from sync.push import push_batch
from tests.engine_support import drain, invoice_payload
from tests.mappings.support import AU, UK, US, business_link, seller_link

ADS = "seller:fees:advertising"
SALES = "seller:sales:principal"


def site_of(sandbox_url: str) -> str:
    return sandbox_url.removesuffix("/sandbox")


def xero_calls(caplog: pytest.LogCaptureFixture, operation: str = "") -> int:
    return sum(
        1
        for r in caplog.records
        if r.name == "connectors.http"
        and "provider=xero" in r.getMessage()
        and f"op={operation}" in r.getMessage()
    )


def as_input(suggestion: services.suggesting.Suggestion) -> MappingInput:
    return MappingInput(
        targets=dict(suggestion.targets),
        settings={
            n: getattr(suggestion, n) for n in services.SETTING_FIELDS if getattr(suggestion, n)
        },
        marketplace_tracking=dict(suggestion.marketplace_tracking),
        payment_methods=dict(suggestion.payment_methods),
    )


def targets(suggestion: services.suggesting.Suggestion) -> dict[str, tuple[str, str]]:
    return {k: (t.account_code, t.tax_type) for k, t in suggestion.targets.items()}


# ------------------------------------------------------------------ suggestions


@pytest.mark.parametrize(
    ("org", "seller", "accounts", "business"),
    [
        (
            UK,
            {
                SALES: ("200", "OUTPUT2"),
                "seller:refunds:principal": ("200", "OUTPUT2"),
                "seller:fees:commission": ("429", "INPUT2"),
                ADS: ("400", "INPUT2"),
                "seller:reimbursements:inventory": ("260", "NONE"),
                "seller:tax:facilitator": ("615", "NONE"),
            },
            ("615", "850", "860"),
            {
                "business:expense:office-supplies": ("461", "INPUT2"),
                "business:expense:it-equipment": ("463", "INPUT2"),
                "business:expense:books": ("485", "ZERORATEDINPUT"),
                "business:charge:shipping": ("425", "INPUT2"),
            },
        ),
        (
            US,
            {
                SALES: ("400", "NONE"),
                "seller:fees:commission": ("628", "NONE"),
                ADS: ("600", "NONE"),
                "seller:reimbursements:inventory": ("460", "NONE"),
                "seller:tax:facilitator": ("125", "NONE"),
            },
            ("125", "250", "260"),
            {
                "business:expense:office-supplies": ("652", "NONE"),
                "business:expense:postage": ("624", "NONE"),
                "business:tax:purchase-tax": ("628", "NONE"),
            },
        ),
        (
            AU,
            {
                SALES: ("200", "OUTPUT"),
                "seller:fees:commission": ("429", "INPUT"),
                ADS: ("400", "INPUT"),
                "seller:tax:facilitator": ("615", "BASEXCLUDED"),
            },
            ("615", "850", "860"),
            {
                "business:expense:office-supplies": ("461", "INPUT"),
                "business:expense:cleaning": ("408", "INPUT"),
            },
        ),
    ],
)
def test_suggestions_follow_each_seeded_chart_and_tax_system(
    sandbox_url: str,
    caplog: pytest.LogCaptureFixture,
    org: str,
    seller: dict[str, tuple[str, str]],
    accounts: tuple[str, str, str],
    business: dict[str, tuple[str, str]],
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.http")
    link = seller_link(site_of(sandbox_url), org)
    suggestion = services.mapping_suggest(link)
    # Reading the chart is five calls (Organisation, Accounts, TaxRates, TrackingCategories,
    # Currencies), then it is cached.
    assert xero_calls(caplog) == 5
    assert targets(suggestion).items() >= seller.items()
    assert (
        suggestion.clearing_account,
        suggestion.suspense_account,
        suggestion.rounding_account,
    ) == accounts
    market = link.seller_account.marketplace_ids[0]  # type: ignore[union-attr]
    word = {UK: "UK", US: "US", AU: "AU"}[org]
    assert suggestion.marketplace_tracking[market] == ("Sales Channel", f"Amazon {word}")
    # Accepted as it is, the suggestion is valid in Xero.
    assert services.mapping_save(link, as_input(suggestion)) == []
    assert [p for p in services.mapping_validate(link) if p.blocking] == []
    assert (
        CategoryMapping.objects.get(link=link, category_key=SALES).account_code == seller[SALES][0]
    )

    purchases = business_link(link)
    services.payment_method_seen(purchases, "card:1111", "Visa ending 1111")
    services.payment_method_seen(purchases, "invoice", "Pay by Invoice")
    proposal = services.mapping_suggest(purchases)
    assert targets(proposal).items() >= business.items()
    # VAT and GST stay on the expense lines; only US sales tax is a line of its own.
    assert ("business:tax:purchase-tax" in proposal.targets) == (org == US)
    assert proposal.payment_methods == {
        "card:1111": "092",
        "invoice": "bill",
        "invoice-payment": "090",
    }
    assert services.mapping_save(purchases, as_input(proposal)) == []
    assert xero_calls(caplog) == 5  # still the cached chart


# ------------------------------------------------------------------ live validation


def mapped_uk_link(site: str) -> Link:
    link = seller_link(site, UK)
    problems = services.mapping_save(
        link,
        MappingInput(
            targets={
                ADS: Target("400", "INPUT2"),
                SALES: Target("200", "OUTPUT2", (("Sales Channel", "Amazon UK"),)),
            },
            settings={
                "clearing_account": "615",
                "reserve_account": "620",
                "suspense_account": "850",
            },
        ),
    )
    assert problems == []
    return link


def test_validation_reads_changes_made_in_xero_and_says_what_to_do(sandbox_url: str) -> None:
    link = mapped_uk_link(site_of(sandbox_url))
    assert services.mapping_validate(link) == []
    northwind = Organisation.objects.get(name=UK)
    # In Xero: the advertising account is archived, the clearing account deleted, the sales
    # tracking option archived and euros switched off.
    Account.objects.filter(org=northwind, code="400").update(status="ARCHIVED")
    Account.objects.filter(org=northwind, code="615").update(status="DELETED")
    northwind.tracking_categories.get(name="Sales Channel").options.filter(name="Amazon UK").update(
        status="ARCHIVED"
    )
    Currency.objects.filter(org=northwind, code="EUR").delete()
    # The cached chart does not know yet; a refresh does.
    assert services.mapping_validate(link) == []
    problems = services.mapping_validate(link, refresh=True)
    assert [p.message for p in problems] == [
        "Account 615 'Payment Processor Clearing' is deleted in Xero: choose another account "
        "for the clearing account for Amazon deposits.",
        "Amazon.de sells in EUR, which is not enabled in this Xero organisation: add EUR in "
        "Xero under Settings → Currencies, then check again.",
        "Account 400 'Advertising & Marketing' was archived in Xero: choose another account "
        "for 'Advertising (Sponsored Products)', or restore the account in Xero.",
        "Tracking option 'Amazon UK' of 'Sales Channel' is archived in Xero: choose another "
        "option for 'Product sales'.",
    ]
    assert all(p.blocking for p in problems)


def test_saving_an_invalid_mapping_writes_nothing(sandbox_url: str) -> None:
    link = seller_link(site_of(sandbox_url), UK)
    problems = services.mapping_save(
        link,
        MappingInput(
            targets={ADS: Target("400", "OUTPUT2"), SALES: Target("200", "OUTPUT2")},
            settings={"clearing_account": "620", "suspense_account": "850"},
            payment_methods={},
        ),
    )
    assert [(p.key, p.field) for p in problems] == [
        ("setting:clearing_account", "account"),
        (f"category:{ADS}", "tax_type"),
    ]
    assert "cannot be used on account 400 'Advertising & Marketing'" in problems[1].message
    assert not CategoryMapping.objects.filter(link=link).exists()
    assert not MappingSettings.objects.filter(link=link).exists()


# ------------------------------------------------------------------ before each push


def test_an_account_archived_in_xero_holds_its_documents_as_remap_needed(
    sandbox_url: str, queued: list[object]
) -> None:
    link = mapped_uk_link(site_of(sandbox_url))
    northwind = Organisation.objects.get(name=UK)
    good = invoice_payload(1, prefix="MAP")
    bad = invoice_payload(2, prefix="MAP")
    bad["LineItems"][0].update(AccountCode="400", TaxType="INPUT2", Description="Sponsored ads")
    for n, payload in ((1, good), (2, bad)):
        ledger_upsert(
            link=link,
            kind="invoice",
            amazon_id=f"MAP{n}",
            payload=payload,
            total=Decimal("10.00"),
            currency="GBP",
            lookup_number=payload["InvoiceNumber"],
        )
    Account.objects.filter(org=northwind, code="400").update(status="ARCHIVED")
    # The cached chart is old: the push reads it again before sending.
    ChartCache.objects.update(refreshed_at=timezone.now() - timedelta(hours=1))
    drain(link)
    held = LedgerEntry.objects.get(amazon_id="MAP2")
    assert held.status == EntryStatus.HELD
    assert held.held_reason == (
        "Remap needed: Account 400 'Advertising & Marketing' was archived in Xero: choose "
        "another account for 'Advertising (Sponsored Products)', or restore the account in "
        "Xero."
    )
    assert held.attempts == 0 and held.attempt_log.get().outcome == "held"
    assert LedgerEntry.objects.get(amazon_id="MAP1").status == EntryStatus.POSTED
    # Nothing was sent for it: Xero has only the good invoice.
    assert list(Invoice.objects.filter(org=northwind).values_list("number", flat=True)) == [
        "MAP-000001"
    ]

    # The user remaps; the sync kind's rebuilder rebuilds the held document from its source
    # with the new mapping, and the push posts it.
    def rebuild(held_link: Link) -> int:
        count = 0
        for entry in LedgerEntry.objects.filter(link=held_link, status=EntryStatus.HELD):
            payload = dict(entry.payload)
            target = services.mapping_set_for(held_link).target(ADS)
            assert target is not None
            payload["LineItems"] = [{**payload["LineItems"][0], "AccountCode": target.account_code}]
            ledger_upsert(
                link=held_link,
                kind=entry.kind,
                amazon_id=entry.amazon_id,
                payload=payload,
                total=entry.total,
                currency=entry.currency,
                lookup_number=entry.lookup_number,
            )
            count += 1
        return count

    services.register_rebuilder("test-invoices", rebuild)
    try:
        assert (
            services.mapping_save(link, MappingInput(targets={ADS: Target("401", "INPUT2")})) == []
        )
        assert ("release_held", (link.pk,)) in queued  # saving queued the release
        assert services.mapping_release_held(link) == 1
    finally:
        services._rebuilders.pop("test-invoices")
    assert ("push_link", (link.pk, "invoice")) in queued
    drain(link)
    released = LedgerEntry.objects.get(amazon_id="MAP2")
    assert released.status == EntryStatus.POSTED and released.held_reason == ""
    invoice = Invoice.objects.get(org=northwind, number="MAP-000002")
    assert invoice.data["LineItems"][0]["AccountCode"] == "401"


def test_restoring_the_account_in_xero_releases_the_held_document(sandbox_url: str) -> None:
    link = mapped_uk_link(site_of(sandbox_url))
    northwind = Organisation.objects.get(name=UK)
    payload = invoice_payload(3, prefix="MAP")
    payload["LineItems"][0].update(AccountCode="400", TaxType="INPUT2")
    ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="MAP3",
        payload=payload,
        total=Decimal("10.00"),
        currency="GBP",
        lookup_number=payload["InvoiceNumber"],
    )
    Account.objects.filter(org=northwind, code="400").update(status="ARCHIVED")
    services.chart_refresh(link.xero_tenant)
    outcome = push_batch(link_id=link.pk, kind="invoice")
    assert outcome.sent == 0 and not outcome.more
    assert LedgerEntry.objects.get(amazon_id="MAP3").status == EntryStatus.HELD
    Account.objects.filter(org=northwind, code="400").update(status="ACTIVE")
    ChartCache.objects.update(refreshed_at=timezone.now() - timedelta(hours=1))
    assert services.mapping_release_held(link) == 1
    drain(link)
    assert LedgerEntry.objects.get(amazon_id="MAP3").status == EntryStatus.POSTED


def test_links_without_a_mapping_are_not_checked_before_a_push(
    sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.http")
    link = seller_link(site_of(sandbox_url), UK)
    ledger_upsert(
        link=link,
        kind="invoice",
        amazon_id="RAW1",
        payload=invoice_payload(9, prefix="RAW"),
        total=Decimal("10.00"),
        currency="GBP",
    )
    drain(link)
    assert LedgerEntry.objects.get(amazon_id="RAW1").status == EntryStatus.POSTED
    assert xero_calls(caplog) == 1  # the batch itself, no chart read


# ------------------------------------------------------------------ recommended accounts


def test_recommended_amazon_accounts_are_created_once_and_mapped(
    sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.http")
    link = seller_link(site_of(sandbox_url), UK)
    northwind = Organisation.objects.get(name=UK)
    before = set(Account.objects.filter(org=northwind).values_list("code", flat=True))
    result = services.accounts_create_recommended(link)
    assert result.error == ""
    names = [
        "Amazon Sales",
        "Amazon Refunds",
        "Amazon Promotions",
        "Amazon Reimbursements",
        "Amazon Selling Fees",
        "Amazon FBA Fees",
        "Amazon Advertising",
        "Amazon Reserve",
        "Amazon Clearing",
        "Amazon Suspense",
    ]
    assert [c.split(" ", 1)[1] for c in result.created] == names
    assert xero_calls(caplog, "createAccount") == len(names)  # one PUT per account
    made = {a.name: a for a in Account.objects.filter(org=northwind, name__in=names)}
    assert set(made) == set(names)
    assert not {a.code for a in made.values()} & before  # free codes only
    assert made["Amazon Clearing"].enable_payments and made["Amazon Clearing"].type == "CURRENT"
    assert made["Amazon Sales"].type == "REVENUE" and made["Amazon Reserve"].type == "CURRENT"
    mapping = services.mapping_set_for(link)
    assert mapping.target(SALES).account_code == made["Amazon Sales"].code  # type: ignore[union-attr]
    assert mapping.target(ADS).account_code == made["Amazon Advertising"].code  # type: ignore[union-attr]
    assert mapping.target("seller:fees:storage").account_code == made["Amazon FBA Fees"].code  # type: ignore[union-attr]
    assert mapping.clearing_account == made["Amazon Clearing"].code
    assert mapping.reserve_account == made["Amazon Reserve"].code
    assert mapping.suspense_account == made["Amazon Suspense"].code
    assert [p for p in services.mapping_validate(link) if p.blocking] == []
    # A second click creates nothing.
    again = services.accounts_create_recommended(link)
    assert again.created == [] and len(again.existing) == len(names)
    assert xero_calls(caplog, "createAccount") == len(names)


def test_a_us_organisation_also_gets_a_sales_tax_clearing_account(sandbox_url: str) -> None:
    link = seller_link(site_of(sandbox_url), US)
    result = services.accounts_create_recommended(link)
    assert any(c.endswith("Amazon Sales Tax Clearing") for c in result.created)
    code = Account.objects.get(name="Amazon Sales Tax Clearing").code
    assert services.mapping_set_for(link).target("seller:tax:facilitator").account_code == code  # type: ignore[union-attr]


# ------------------------------------------------------------------ unknown and new categories


def test_an_unknown_category_posts_to_suspense_with_an_alert(sandbox_url: str) -> None:
    from mappings.transforms.settlement import (
        SettlementAmount,
        SettlementInput,
        settlement_documents,
    )

    link = mapped_uk_link(site_of(sandbox_url))
    unknown = unmapped_category("seller", "Order", "ItemFees", "Carbon Offset Fee")
    assert services.category_seen(link, unknown) is True
    assert services.category_seen(link, unknown) is False  # once
    alert = [p for p in services.mapping_validate(link) if p.severity == "alert"]
    assert [p.message for p in alert] == [
        "Amazon sent 'Order / ItemFees / Carbon Offset Fee', which we do not recognise: it "
        "posts to the suspense account 850 until you map it."
    ]
    overview = services.mapping_overview(link, services.chart_for(link.xero_tenant))
    assert overview.attention[0].key == unknown.key

    # The settlement transform with this link's mapping sends it to 850, never drops it.
    now = timezone.now()
    amounts = (
        SettlementAmount(
            now.date(), "Order", "ItemPrice", "Principal", "Amazon.co.uk", "", Decimal("100.00")
        ),
        SettlementAmount(
            now.date(),
            "Order",
            "ItemFees",
            "Carbon Offset Fee",
            "Amazon.co.uk",
            "",
            Decimal("-1.50"),
        ),
    )
    plan = settlement_documents(
        SettlementInput("S1", "GBP", now - timedelta(days=14), now, now, Decimal("98.50"), amounts),
        services.mapping_set_for(link),
        services.chart_for(link.xero_tenant).chart,
    )
    assert [c.key for c in plan.unknown] == [unknown.key]
    lines = plan.documents[0].payload["LineItems"]
    assert any(line["AccountCode"] == "850" and line["UnitAmount"] == "-1.50" for line in lines)


def test_a_new_card_shows_as_map_this_until_mapped(sandbox_url: str) -> None:
    link = business_link(mapped_uk_link(site_of(sandbox_url)))
    assert services.payment_method_seen(link, "card:4242", "Visa ending 4242") is True
    assert services.payment_method_seen(link, "card:4242", "Visa ending 4242") is False
    overview = services.mapping_overview(link, services.chart_for(link.xero_tenant))
    assert overview.unmapped_payments == {"card:4242"}
    [todo] = [p for p in overview.todos if p.key == "payment:card:4242"]
    assert todo.message.startswith("Visa ending 4242 has no account yet")
    assert services.mapping_save(link, MappingInput(payment_methods={"card:4242": "092"})) == []
    overview = services.mapping_overview(link, services.chart_for(link.xero_tenant))
    assert overview.unmapped_payments == set()
    assert SeenItem.objects.filter(link=link).count() == 1


# ------------------------------------------------------------------ templates


def test_a_template_moves_a_mapping_to_another_link_or_nothing_changes(sandbox_url: str) -> None:
    first = mapped_uk_link(site_of(sandbox_url))
    template = services.mapping_export(first)
    assert template["format"] == "ledgerbridge.mapping" and template["source"] == "seller"
    assert template["categories"][ADS] == {
        "account_code": "400",
        "tax_type": "INPUT2",
        "tracking": [],
    }
    seller = AmazonSellerAccount.objects.create(
        customer=first.customer,
        name="Amazon North America",
        region="na",
        selling_partner_id="A2SANDBOXNA1",
    )
    second = Link.objects.create(
        customer=first.customer, xero_tenant=first.xero_tenant, seller_account=seller
    )
    services.mapping_save(
        second, MappingInput(targets={"seller:fees:closing": Target("429", "INPUT2")})
    )

    assert services.mapping_import(second, template) == []
    assert services.mapping_set_for(second).targets == services.mapping_set_for(first).targets
    assert services.mapping_set_for(second).suspense_account == "850"

    broken = {
        **template,
        "categories": {
            **template["categories"],
            ADS: {"account_code": "999", "tax_type": "INPUT2"},
        },
    }
    problems = services.mapping_import(second, broken)
    assert [p.message for p in problems] == [
        "Account 999 is not in the Xero chart of accounts (it may have been deleted in Xero): "
        "choose another account for 'Advertising (Sponsored Products)'."
    ]
    assert CategoryMapping.objects.get(link=second, category_key=ADS).account_code == "400"

    for bad, message in [
        ([1, 2], "The file is not a mapping template: it should be a JSON object."),
        ({"format": "other"}, "The file is not a Ledgerbridge mapping template"),
        ({**template, "version": 7}, "This template is version 7"),
        ({**template, "source": "business"}, "This template is for an Amazon Business link"),
        ({**template, "settings": {"bank": "090"}}, 'Unknown setting "bank"'),
        ({**template, "categories": {ADS: {"account_code": 400}}}, "should be text, not int"),
        (
            {**template, "categories": {"business:gl:1": {"account_code": "400"}}},
            "is not a seller category",
        ),
    ]:
        with pytest.raises(MappingError) as caught:
            services.mapping_import(second, bad)
        assert message in str(caught.value)
    assert services.mapping_set_for(second).targets == services.mapping_set_for(first).targets
