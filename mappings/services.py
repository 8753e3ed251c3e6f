"""Account mapping: build, check, suggest, save, export/import, and release held documents.

What other parts call:

- ``mapping_set_for(link)``: the plain ``MappingSet`` transforms read.
- ``category_seen(link, category)`` / ``payment_method_seen(link, key, label)``: a sync met this
  category or payment method; an unmapped one is shown as "map this".
- ``register_rebuilder(kind, fn)``: a sync kind's ``fn(link) -> int`` re-transforms the link's
  held documents from its stored source records (through ``ledger_upsert``);
  ``mapping_release_held(link)`` runs them all after the user mapped something, then queues
  pushes.
- ``documents_precheck``: registered with the push (``sync.push.register_precheck``): a
  document whose account, tax rate or tracking option is no longer valid in Xero is held as
  "Remap needed: …" instead of failing in Xero.

Every Xero call goes through ``XeroAccounting`` (so the shared limiter applies); the chart is
cached per tenant with its time (a refresh is five calls).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors import http
from connectors.models import Link, XeroTenant
from connectors.xero.accounting import XeroAccounting
from mappings import suggest as suggesting
from mappings.categories import Category
from mappings.categories_business import (
    BUSINESS_CATEGORIES,
    INVOICE,
    INVOICE_PAYMENT,
    payment_method_label_for_key,
)
from mappings.chart import Chart, chart_from_xero
from mappings.models import CategoryMapping, ChartCache, MappingSettings, SeenItem
from mappings.resolve import MappingSet, Target
from mappings.validate import (
    Needs,
    Problem,
    account_problem,
    mapping_problems,
    tax_problem,
    tracking_problem,
)
from sync.models import EntryStatus, LedgerEntry

log = logging.getLogger(__name__)

# A chart older than this is refreshed before a push checks documents against it.
CHART_MAX_AGE = timedelta(minutes=10)
# Saving a mapping checks it against a chart at most this old ("live" without a refresh per
# click: a refresh costs five of the tenant's 60 calls a minute).
CHART_SAVE_MAX_AGE = timedelta(minutes=2)
REMAP = "Remap needed: "
SETTING_FIELDS = ("clearing_account", "reserve_account", "suspense_account", "rounding_account")


class MappingError(Exception):
    """Bad input or a state the user must fix: the message says what to do."""


# ---------------------------------------------------------------- what a link needs


def link_source(link: Link) -> str:
    return "seller" if link.seller_account_id else "business"


def seller_registry() -> list[Category]:
    """The Seller Central categories (mappings/categories_seller.py), when it is installed."""
    if importlib.util.find_spec("mappings.categories_seller") is None:
        return []
    module = importlib.import_module("mappings.categories_seller")
    categories: list[Category] = list(getattr(module, "SELLER_CATEGORIES", []))
    return categories


def registry_for(link: Link) -> list[Category]:
    return seller_registry() if link_source(link) == "seller" else list(BUSINESS_CATEGORIES)


def fixed_keys() -> frozenset[str]:
    """Categories that post to an account chosen in the settings, not mapped one by one
    (reserves held and released post to the reserve account)."""
    if importlib.util.find_spec("mappings.categories_seller") is None:
        return frozenset()
    module = importlib.import_module("mappings.categories_seller")
    keys: frozenset[str] = frozenset(getattr(module, "RESERVE_KEYS", frozenset()))
    return keys


def seen_categories(link: Link) -> list[Category]:
    """Categories a sync met that the registry does not list (GL codes, unknown ones)."""
    known = {c.key for c in registry_for(link)} | fixed_keys()
    return [
        Category(
            key=s.key,
            label=s.label,
            group=s.group or "Other",
            source=link_source(link),
            kind=s.category_kind or "expense",
            hint=s.hint,
            unmapped=s.unmapped,
        )
        for s in SeenItem.objects.filter(link=link, kind=SeenItem.Kind.CATEGORY)
        if s.key not in known
    ]


def categories_for(link: Link) -> list[Category]:
    """Every category the link's mapping page lists: the registry, then what syncs met."""
    fixed = fixed_keys()
    return [c for c in registry_for(link) if c.key not in fixed] + seen_categories(link)


def marketplaces_for(link: Link) -> dict[str, tuple[str, str, str]]:
    """The link's chosen marketplaces: id → (name, currency, country)."""
    if link.seller_account is None:
        return {}
    chosen = set(link.seller_account.marketplace_ids or [])
    return {
        str(m.get("id")): (
            str(m.get("name") or m.get("id")),
            str(m.get("currency") or "").upper(),
            str(m.get("country") or "").upper(),
        )
        for m in link.seller_account.available_marketplaces or []
        if m.get("id") in chosen
    }


def payment_methods_for(link: Link) -> dict[str, str]:
    """Payment methods a sync met: key → label, in the order first seen.

    With Pay by Invoice comes the account that pays Amazon's invoices (the bills' payments).
    """
    methods = {
        s.key: s.label
        for s in SeenItem.objects.filter(link=link, kind=SeenItem.Kind.PAYMENT_METHOD)
    }
    if INVOICE in methods:
        methods.setdefault(INVOICE_PAYMENT, payment_method_label_for_key(INVOICE_PAYMENT))
    return methods


def settings_fields(link: Link) -> tuple[str, ...]:
    """The account settings that apply to the link's kind of Amazon account."""
    if link_source(link) == "seller":
        return SETTING_FIELDS
    return ("suspense_account", "rounding_account")


def required_settings(link: Link) -> tuple[str, ...]:
    if link_source(link) == "seller":
        return ("clearing_account", "reserve_account", "suspense_account")
    return ("suspense_account",)


def needs_for(link: Link) -> Needs:
    categories = categories_for(link)
    fixed = fixed_keys()
    seen = {
        s.key: s.unmapped
        for s in SeenItem.objects.filter(link=link, kind=SeenItem.Kind.CATEGORY)
        if s.key not in fixed
    }
    currencies: tuple[str, ...] = ()
    if link_source(link) == "business":
        currencies = tuple(
            sorted(
                c
                for c in LedgerEntry.objects.filter(link=link)
                .values_list("currency", flat=True)
                .distinct()
                if c
            )
        )
    return Needs(
        labels={c.key: c.label for c in categories},
        seen=seen,
        payment_methods=payment_methods_for(link),
        marketplaces={k: (v[0], v[1]) for k, v in marketplaces_for(link).items()},
        purchase_currencies=currencies,
        required_settings=required_settings(link),
    )


# ---------------------------------------------------------------- the mapping as data


def settings_for(link: Link) -> MappingSettings:
    found, _ = MappingSettings.objects.get_or_create(link=link)
    return found


def mapping_set_for(link: Link) -> MappingSet:
    """The link's mapping as the plain data transforms read (no Xero call)."""
    stored = MappingSettings.objects.filter(link=link).first()
    targets = {
        row.category_key: Target(
            account_code=row.account_code, tax_type=row.tax_type, tracking=row.tracking
        )
        for row in CategoryMapping.objects.filter(link=link)
        if row.account_code
    }
    contacts = {mid: name for mid, (name, _cur, _country) in marketplaces_for(link).items()}
    tracking: dict[str, tuple[str, str]] = {}
    if stored is not None:
        contacts.update({k: v for k, v in (stored.marketplace_contacts or {}).items() if v})
        tracking = {
            k: (str(v[0]), str(v[1]))
            for k, v in (stored.marketplace_tracking or {}).items()
            if isinstance(v, list | tuple) and len(v) == 2 and v[0] and v[1]
        }
    return MappingSet(
        targets=targets,
        marketplace_contacts=contacts,
        marketplace_tracking=tracking,
        clearing_account=stored.clearing_account if stored else "",
        reserve_account=stored.reserve_account if stored else "",
        suspense_account=stored.suspense_account if stored else "",
        rounding_account=stored.rounding_account if stored else "",
        payment_methods={k: v for k, v in (stored.payment_methods if stored else {}).items() if v},
        business_supplier_contact_id=stored.business_supplier_contact_id if stored else "",
    )


def link_has_mapping(link: Link) -> bool:
    return (
        MappingSettings.objects.filter(link=link).exists()
        or CategoryMapping.objects.filter(link=link).exists()
    )


# ---------------------------------------------------------------- seen categories


def categories_seen(link: Link, categories: Iterable[Category]) -> int:
    """Record categories a sync met (first time only). Returns how many were new."""
    unique = {c.key: c for c in categories}
    if not unique:
        return 0
    existing = set(
        SeenItem.objects.filter(
            link=link, kind=SeenItem.Kind.CATEGORY, key__in=list(unique)
        ).values_list("key", flat=True)
    )
    fresh = [c for key, c in unique.items() if key not in existing]
    SeenItem.objects.bulk_create(
        [
            SeenItem(
                link=link,
                kind=SeenItem.Kind.CATEGORY,
                key=c.key,
                label=c.label[:255],
                group=c.group[:100],
                category_kind=c.kind[:30],
                hint=c.hint[:100],
                unmapped=c.unmapped,
            )
            for c in fresh
        ],
        ignore_conflicts=True,
    )
    for c in fresh:
        if c.unmapped:
            log.warning("unknown category link=%s key=%s label=%s", link.pk, c.key, c.label)
    return len(fresh)


def category_seen(link: Link, category: Category) -> bool:
    """A sync met ``category`` for this link; True the first time (a new "map this")."""
    return categories_seen(link, [category]) == 1


def payment_method_seen(link: Link, key: str, label: str) -> bool:
    """A sync met this payment method (e.g. a new card); True the first time."""
    _, created = SeenItem.objects.get_or_create(
        link=link,
        kind=SeenItem.Kind.PAYMENT_METHOD,
        key=key,
        defaults={"label": (label or payment_method_label_for_key(key))[:255]},
    )
    return created


# ---------------------------------------------------------------- the chart


def chart_refresh(tenant: XeroTenant) -> ChartCache:
    """Read the tenant's chart from Xero (five calls through the shared limiter) and cache it.

    Raises ``http.ProviderError`` (e.g. ``LimiterBusy`` with its wait) when Xero cannot be read.
    Reference: https://developer.xero.com/documentation/api/accounting/accounts,
    …/taxrates, …/trackingcategories, …/currencies, …/organisation
    """
    client = XeroAccounting(tenant)
    organisations = client.get("/Organisation", "getOrganisations").get("Organisations") or [{}]
    accounts = client.get("/Accounts", "getAccounts").get("Accounts") or []
    rates = client.get("/TaxRates", "getTaxRates").get("TaxRates") or []
    tracking = (
        client.get("/TrackingCategories", "getTrackingCategories", includeArchived="true").get(
            "TrackingCategories"
        )
        or []
    )
    currencies = client.get("/Currencies", "getCurrencies").get("Currencies") or []
    cache, _ = ChartCache.objects.update_or_create(
        tenant=tenant,
        defaults={
            "organisation": organisations[0],
            "accounts": accounts,
            "tax_rates": rates,
            "tracking_categories": tracking,
            "currencies": currencies,
            "refreshed_at": timezone.now(),
        },
    )
    return cache


def chart_of(cache: ChartCache) -> Chart:
    return chart_from_xero(
        accounts=cache.accounts,
        tax_rates=cache.tax_rates,
        tracking_categories=cache.tracking_categories,
        currencies=cache.currencies,
        organisation=cache.organisation,
    )


@dataclass(frozen=True)
class ChartRead:
    chart: Chart
    refreshed_at: Any  # datetime of the copy used
    note: str = ""  # why a stale copy was used, in plain words


def chart_for(
    tenant: XeroTenant, *, refresh: bool = False, max_age: timedelta | None = None
) -> ChartRead:
    """The tenant's chart: cached, refreshed when asked, missing or older than ``max_age``.

    When Xero cannot be read but a copy exists, the copy is used and ``note`` says so; with no
    copy at all the error is raised.
    """
    cache = ChartCache.objects.filter(tenant=tenant).first()
    stale = cache is None or (max_age is not None and cache.refreshed_at < timezone.now() - max_age)
    if refresh or stale:
        try:
            cache = chart_refresh(tenant)
        except http.ProviderError as exc:
            if cache is None:
                raise
            wait = f" Try again in {int(exc.decision.wait) + 1} s." if exc.decision.wait else ""
            return ChartRead(
                chart_of(cache),
                cache.refreshed_at,
                note=f"Xero could not be read just now ({exc.message}); this check used the "
                f"copy of your chart from {cache.refreshed_at:%d %b %Y %H:%M} UTC.{wait}",
            )
    assert cache is not None
    return ChartRead(chart_of(cache), cache.refreshed_at)


def mapping_validate(link: Link, *, refresh: bool = False) -> list[Problem]:
    """Every problem with the link's mapping against the tenant's chart, in plain words."""
    read = chart_for(link.xero_tenant, refresh=refresh)
    return mapping_problems(mapping_set_for(link), read.chart, needs_for(link))


# ---------------------------------------------------------------- saving


@dataclass
class MappingInput:
    """A whole mapping as submitted by the mapping page or an imported template."""

    targets: dict[str, Target | None] = field(default_factory=dict)  # None: clear it
    settings: dict[str, str] = field(default_factory=dict)  # SETTING_FIELDS, when given
    marketplace_contacts: dict[str, str] = field(default_factory=dict)
    marketplace_tracking: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    payment_methods: dict[str, str] = field(default_factory=dict)  # "" clears


def _merged(link: Link, data: MappingInput) -> MappingSet:
    current = mapping_set_for(link)
    targets = dict(current.targets)
    for key, target in data.targets.items():
        if target is None or not target.account_code:
            targets.pop(key, None)
        else:
            targets[key] = target
    tracking = dict(current.marketplace_tracking)
    for key, pair in data.marketplace_tracking.items():
        if pair is None:
            tracking.pop(key, None)
        else:
            tracking[key] = pair
    methods = dict(current.payment_methods)
    for key, value in data.payment_methods.items():
        if value:
            methods[key] = value
        else:
            methods.pop(key, None)
    contacts = dict(current.marketplace_contacts)
    contacts.update({k: v for k, v in data.marketplace_contacts.items() if v})
    values = {name: data.settings.get(name, getattr(current, name)) for name in SETTING_FIELDS}
    return MappingSet(
        targets=targets,
        marketplace_contacts=contacts,
        marketplace_tracking=tracking,
        payment_methods=methods,
        business_supplier_contact_id=current.business_supplier_contact_id,
        **values,
    )


def mapping_save(link: Link, data: MappingInput) -> list[Problem]:
    """Check the submitted mapping against the live chart; save it all, or nothing.

    Returns the problems that stopped the save (severity "error"); an empty list means saved.
    Categories left blank are simply not mapped yet (their documents wait).
    """
    read = chart_for(link.xero_tenant, max_age=CHART_SAVE_MAX_AGE)
    merged = _merged(link, data)
    submitted = {f"category:{k}" for k in data.targets}
    submitted |= {f"setting:{k}" for k in data.settings}
    submitted |= {f"payment:{k}" for k in data.payment_methods}
    submitted |= {f"marketplace:{k}" for k in data.marketplace_tracking}
    errors = [
        p
        for p in mapping_problems(merged, read.chart, needs_for(link))
        if p.blocking and p.key in submitted
    ]
    if errors:
        return errors
    mapping_store(link, merged)
    transaction.on_commit(lambda: _release_later(link.pk))
    return []


def mapping_store(link: Link, mapping: MappingSet) -> None:
    """Write ``mapping`` as the link's whole mapping, atomically."""
    with transaction.atomic():
        stored = MappingSettings.objects.select_for_update().filter(link=link).first()
        if stored is None:
            stored = MappingSettings(link=link)
        for name in SETTING_FIELDS:
            setattr(stored, name, getattr(mapping, name))
        defaults = {mid: name for mid, (name, _c, _n) in marketplaces_for(link).items()}
        stored.marketplace_contacts = {
            k: v for k, v in mapping.marketplace_contacts.items() if v and defaults.get(k) != v
        }
        stored.marketplace_tracking = {k: list(v) for k, v in mapping.marketplace_tracking.items()}
        stored.payment_methods = dict(mapping.payment_methods)
        stored.save()
        CategoryMapping.objects.filter(link=link).exclude(
            category_key__in=list(mapping.targets)
        ).delete()
        for key, target in mapping.targets.items():
            pairs = list(target.tracking) + [("", "")] * (2 - len(target.tracking))
            CategoryMapping.objects.update_or_create(
                link=link,
                category_key=key,
                defaults={
                    "account_code": target.account_code,
                    "tax_type": target.tax_type,
                    "tracking1_category": pairs[0][0],
                    "tracking1_option": pairs[0][1],
                    "tracking2_category": pairs[1][0],
                    "tracking2_option": pairs[1][1],
                },
            )


def _release_later(link_id: int) -> None:
    from mappings.tasks import release_held

    release_held.delay(link_id)


# ---------------------------------------------------------------- suggestions


def mapping_suggest(link: Link, *, refresh: bool = False) -> suggesting.Suggestion:
    """A proposed mapping from the tenant's own chart (not saved: the page pre-fills it)."""
    read = chart_for(link.xero_tenant, refresh=refresh)
    return suggesting.mapping_suggestion(
        read.chart,
        categories_for(link),
        marketplaces=marketplaces_for(link),
        payment_methods=payment_methods_for(link),
        settings=SETTING_FIELDS,
    )


def suggestion_apply(link: Link, suggestion: suggesting.Suggestion, chart: Chart) -> int:
    """Save suggested targets and settings where the link has none, or only broken ones."""
    current = mapping_set_for(link)
    needs = needs_for(link)
    targets = dict(current.targets)
    changed = 0
    for key, target in suggestion.targets.items():
        existing = targets.get(key)
        label = needs.labels.get(key, key)
        from mappings.validate import target_problems

        broken = existing is not None and any(
            p.blocking for p in target_problems(chart, key, existing, label)
        )
        if existing is None or broken:
            targets[key] = target
            changed += 1
    values = {}
    for name in SETTING_FIELDS:
        code = getattr(current, name)
        new = getattr(suggestion, name)
        if new and (not code or account_problem(chart, code, name)):
            values[name] = new
            changed += 1
        else:
            values[name] = code
    methods = dict(current.payment_methods)
    for key, value in suggestion.payment_methods.items():
        if key not in methods:
            methods[key] = value
            changed += 1
    tracking = dict(current.marketplace_tracking)
    for key, pair in suggestion.marketplace_tracking.items():
        tracking.setdefault(key, pair)
    mapping_store(
        link,
        MappingSet(
            targets=targets,
            marketplace_contacts=current.marketplace_contacts,
            marketplace_tracking=tracking,
            payment_methods=methods,
            business_supplier_contact_id=current.business_supplier_contact_id,
            **values,
        ),
    )
    return changed


# ---------------------------------------------------------------- recommended accounts


@dataclass
class Created:
    created: list[str] = field(default_factory=list)  # "Code Name"
    existing: list[str] = field(default_factory=list)
    mapped: int = 0
    error: str = ""  # why it stopped early, in plain words


def recommended_for(link: Link, chart: Chart) -> list[tuple[str, str, str, bool]]:
    """(name, type, description, enable payments) of the accounts recommended for this link."""
    source = link_source(link)
    return [
        (name, account_type, description, payments)
        for name, account_type, description, payments, countries, applies in suggesting.RECOMMENDED
        if applies in (source, "any") and (not countries or chart.country in countries)
    ]


def _free_code(chart: Chart, account_type: str, taken: set[str]) -> str:
    """A free numeric code beside the chart's accounts of the same type (else class)."""
    from mappings.chart import ACCOUNT_CLASS

    def numeric(accounts: Iterable[Any]) -> list[int]:
        return [int(a.code) for a in accounts if a.code.isdigit()]

    same_type = numeric(a for a in chart.accounts if a.type == account_type)
    same_class = numeric(
        a for a in chart.accounts if a.account_class == ACCOUNT_CLASS.get(account_type)
    )
    start = max(same_type or same_class or [0]) + 1
    width = max((len(a.code) for a in chart.accounts if a.code.isdigit()), default=3)
    for number in range(start, start + 5000):
        code = str(number).zfill(width)
        if code.upper() not in taken and len(code) <= 10:
            return code
    raise MappingError("No free account code was found: create the account in Xero yourself.")


def accounts_create_recommended(link: Link) -> Created:
    """Create the recommended Amazon accounts in Xero (one PUT each; ones that exist by name
    are skipped), refresh the chart, and map them where the link has no working mapping.

    Reference: https://developer.xero.com/documentation/api/accounting/accounts#put-accounts
    (Xero processes only the first account of a PUT, so it is one call per account).
    """
    result = Created()
    chart = chart_for(link.xero_tenant, refresh=True).chart
    taken = {a.code.upper() for a in chart.accounts if a.code}
    client = XeroAccounting(link.xero_tenant)
    tenant = str(link.xero_tenant.tenant_id)
    for name, account_type, description, payments in recommended_for(link, chart):
        existing = chart.account_named(name)
        if existing is not None:
            result.existing.append(existing.display)
            continue
        code = _free_code(chart, account_type, taken)
        body: dict[str, Any] = {
            "Code": code,
            "Name": name,
            "Type": account_type,
            "Description": description,
        }
        if payments:
            body["EnablePaymentsToAccount"] = True
        try:
            response = client.request(
                "createAccount",
                "PUT",
                "/Accounts",
                headers={
                    "Idempotency-Key": f"lb-account-{tenant}-{code}-{name}"[:128],
                    "Content-Type": "application/json",
                },
                json=body,
            )
        except http.ProviderError as exc:
            wait = (
                f" Xero asked us to wait; try again in {int(exc.decision.wait) + 1} s."
                if isinstance(exc, http.RetryLater) and exc.decision.wait
                else ""
            )
            result.error = f"Xero did not create '{name}': {exc.message}.{wait}"
            break
        made = (response.json().get("Accounts") or [{}])[0]
        taken.add(str(made.get("Code") or code).upper())
        result.created.append(f"{made.get('Code') or code} {made.get('Name') or name}")
    try:
        read = chart_for(link.xero_tenant, refresh=True)
    except http.ProviderError as exc:
        result.error = result.error or f"Xero could not be read after creating: {exc.message}."
        return result
    suggestion = suggesting.mapping_suggestion(
        read.chart,
        categories_for(link),
        marketplaces=marketplaces_for(link),
        payment_methods=payment_methods_for(link),
        settings=SETTING_FIELDS,
    )
    result.mapped = suggestion_apply(link, suggestion, read.chart)
    transaction.on_commit(lambda: _release_later(link.pk))
    return result


# ---------------------------------------------------------------- templates (JSON)

TEMPLATE_FORMAT = "ledgerbridge.mapping"
TEMPLATE_VERSION = 1


def mapping_export(link: Link) -> dict[str, Any]:
    """The link's mapping as a JSON-able template (to reuse on another link)."""
    mapping = mapping_set_for(link)
    stored = MappingSettings.objects.filter(link=link).first()
    return {
        "format": TEMPLATE_FORMAT,
        "version": TEMPLATE_VERSION,
        "source": link_source(link),
        "organisation": link.xero_tenant.name,
        "exported_at": timezone.now().isoformat(),
        "categories": {
            key: {
                "account_code": t.account_code,
                "tax_type": t.tax_type,
                "tracking": [list(p) for p in t.tracking],
            }
            for key, t in sorted(mapping.targets.items())
        },
        "settings": {name: getattr(mapping, name) for name in SETTING_FIELDS},
        "marketplace_contacts": dict(stored.marketplace_contacts) if stored else {},
        "marketplace_tracking": {k: list(v) for k, v in mapping.marketplace_tracking.items()},
        "payment_methods": dict(mapping.payment_methods),
    }


def _template_input(data: Any) -> MappingInput:
    """Parse a template; MappingError names the first thing wrong with it."""
    if not isinstance(data, Mapping):
        raise MappingError("The file is not a mapping template: it should be a JSON object.")
    if data.get("format") != TEMPLATE_FORMAT:
        raise MappingError(
            'The file is not a Ledgerbridge mapping template (its "format" should be '
            f'"{TEMPLATE_FORMAT}"): export one from a link\'s mapping page.'
        )
    if data.get("version") != TEMPLATE_VERSION:
        raise MappingError(
            f"This template is version {data.get('version')!r}; this hub reads version "
            f"{TEMPLATE_VERSION}. Export it again from an up-to-date hub."
        )

    def text(value: Any, where: str, limit: int) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise MappingError(f"{where} should be text, not {type(value).__name__}.")
        if len(value.strip()) > limit:
            raise MappingError(f"{where} is longer than {limit} characters.")
        return value.strip()

    def mapping(value: Any, where: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise MappingError(f'"{where}" should be an object.')
        return value

    result = MappingInput()
    for key, row in mapping(data.get("categories"), "categories").items():
        where = f"Category {key!r}"
        if not isinstance(row, Mapping):
            raise MappingError(f"{where} should be an object with an account_code.")
        tracking_raw = row.get("tracking") or []
        if not isinstance(tracking_raw, list) or len(tracking_raw) > 2:
            raise MappingError(f"{where}: tracking should be a list of at most two pairs.")
        pairs = []
        for pair in tracking_raw:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise MappingError(f"{where}: each tracking entry should be [category, option].")
            pairs.append((text(pair[0], where, 100), text(pair[1], where, 100)))
        code = text(row.get("account_code"), f"{where} account_code", 10)
        result.targets[str(key)] = (
            Target(code, text(row.get("tax_type"), f"{where} tax_type", 50), tuple(pairs))
            if code
            else None
        )
    settings = mapping(data.get("settings"), "settings")
    for name, value in settings.items():
        if name not in SETTING_FIELDS:
            raise MappingError(
                f'Unknown setting "{name}": a template may set {", ".join(SETTING_FIELDS)}.'
            )
        result.settings[name] = text(value, f"Setting {name}", 10)
    for key, value in mapping(data.get("marketplace_contacts"), "marketplace_contacts").items():
        result.marketplace_contacts[str(key)] = text(value, f"Contact for {key}", 255)
    for key, value in mapping(data.get("marketplace_tracking"), "marketplace_tracking").items():
        if not (isinstance(value, list) and len(value) == 2):
            raise MappingError(f"Tracking for marketplace {key} should be [category, option].")
        result.marketplace_tracking[str(key)] = (
            text(value[0], f"Tracking for {key}", 100),
            text(value[1], f"Tracking for {key}", 100),
        )
    for key, value in mapping(data.get("payment_methods"), "payment_methods").items():
        result.payment_methods[str(key)] = text(value, f"Payment method {key}", 10)
    return result


def mapping_import(link: Link, data: Any) -> list[Problem]:
    """Apply a template to the link: checked against the live chart, all or nothing.

    Raises ``MappingError`` when the file itself is malformed; returns the problems that
    stopped it otherwise (nothing is saved then).
    """
    if isinstance(data, Mapping) and data.get("source") not in (None, link_source(link)):
        kind = "Seller Central" if data.get("source") == "seller" else "Amazon Business"
        raise MappingError(
            f"This template is for an {kind} link; this link is "
            f"{'Seller Central' if link_source(link) == 'seller' else 'Amazon Business'}."
        )
    parsed = _template_input(data)
    prefix = f"{link_source(link)}:"
    strange = sorted(k for k in parsed.targets if not k.startswith(prefix))
    if strange:
        raise MappingError(
            f"Category {strange[0]!r} is not a {link_source(link)} category: every category key "
            f"in this template should start with {prefix!r}."
        )
    # A template replaces the whole mapping: categories it leaves out are cleared.
    for key in mapping_set_for(link).targets:
        parsed.targets.setdefault(key, None)
    return mapping_save(link, parsed)


# ---------------------------------------------------------------- held documents

Rebuilder = Callable[[Link], int]
_rebuilders: dict[str, Rebuilder] = {}


def register_rebuilder(kind_name: str, fn: Rebuilder) -> Rebuilder:
    """``fn(link) -> int`` rebuilds the link's held documents of one sync kind (settlements,
    purchases…) from stored source records via ``ledger_upsert``; returns how many it rebuilt.
    """
    _rebuilders[kind_name] = fn
    return fn


def registered_rebuilders() -> dict[str, Rebuilder]:
    return dict(_rebuilders)


def mapping_release_held(link: Link) -> int:
    """After a mapping change: rebuild held documents, release remap-held ones that now pass,
    and queue pushes for the link. Returns how many documents were rebuilt or released."""
    from sync.queue import push_enqueue

    count = 0
    for name, rebuild in sorted(_rebuilders.items()):
        try:
            count += rebuild(link)
        except Exception:
            log.exception("rebuilder failed kind=%s link=%s", name, link.pk)
    held = list(
        LedgerEntry.objects.filter(
            link=link, status=EntryStatus.HELD, held_reason__startswith=REMAP
        )
    )
    if held:
        read = chart_for(link.xero_tenant, max_age=CHART_SAVE_MAX_AGE)
        mapping = mapping_set_for(link)
        ok = [e.pk for e in held if not document_problem(read.chart, mapping, e.payload)]
        count += LedgerEntry.objects.filter(pk__in=ok, status=EntryStatus.HELD).update(
            status=EntryStatus.PENDING, held_reason="", claimed_at=None
        )
    kinds = (
        LedgerEntry.objects.filter(link=link, status=EntryStatus.PENDING)
        .values_list("kind", flat=True)
        .distinct()
    )
    for kind in kinds:
        push_enqueue(link_id=link.pk, kind=kind)
    return count


def held_summary(link: Link) -> list[tuple[str, int]]:
    """Why documents are held for this link: (reason, count), most first."""
    from django.db.models import Count

    rows = (
        LedgerEntry.objects.filter(link=link, status=EntryStatus.HELD)
        .values("held_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "held_reason")
    )
    return [(r["held_reason"] or "Held", r["n"]) for r in rows]


# ---------------------------------------------------------------- the push's check


def document_references(payload: Any) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """(account code, tax type, tracking pairs) of every line or account a document names."""
    found: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []

    def walk(node: Any, parent_key: str) -> None:
        if isinstance(node, Mapping):
            code = node.get("AccountCode")
            if parent_key in ("Account", "BankAccount") and node.get("Code"):
                code = node.get("Code")
            tracking = tuple(
                (str(t.get("Name") or ""), str(t.get("Option") or ""))
                for t in node.get("Tracking") or []
                if isinstance(t, Mapping)
            )
            if code or node.get("TaxType") or tracking:
                found.append((str(code or ""), str(node.get("TaxType") or ""), tracking))
            for key, value in node.items():
                if key != "Tracking":
                    walk(value, key)
        elif isinstance(node, list):
            for item in node:
                walk(item, parent_key)

    walk(payload, "")
    return found


def document_problem(chart: Chart, mapping: MappingSet, payload: Any) -> str:
    """The first reason Xero would refuse this document's accounts, tax or tracking, or ''."""
    labels = _labels_by_code(mapping)
    for code, tax_type, tracking in document_references(payload):
        purpose = labels.get(code.upper(), "these documents")
        if code:
            message = account_problem(chart, code, purpose)
            if message:
                return message
        account = chart.account(code) if code else None
        if tax_type:
            message = tax_problem(chart, tax_type, account, purpose)
            if message:
                return message
        if tracking:
            message = tracking_problem(chart, tracking, purpose)
            if message:
                return message
    return ""


def _labels_by_code(mapping: MappingSet) -> dict[str, str]:
    """Which mapped categories use each account code, for messages ("'Referral fees'")."""
    from collections import defaultdict

    from mappings.categories_business import business_category

    names: dict[str, list[str]] = defaultdict(list)
    registry = {c.key: c.label for c in seller_registry()}
    for key, target in mapping.targets.items():
        category = business_category(key)
        names[target.account_code.upper()].append(
            category.label if category else registry.get(key, key)
        )
    for name in SETTING_FIELDS:
        code = getattr(mapping, name)
        if code:
            names[code.upper()].append(name.replace("_", " "))
    for key, code in mapping.payment_methods.items():
        if code != MappingSet.BILL:
            names[code.upper()].append(payment_method_label_for_key(key))
    return {
        code: ", ".join(f"'{label}'" for label in labels[:3])
        + (" and others" if len(labels) > 3 else "")
        for code, labels in names.items()
    }


def documents_precheck(link: Link, entries: list[LedgerEntry]) -> dict[int, str]:
    """Before a push: entry id → "Remap needed: …" for documents Xero would refuse.

    Links without any mapping (documents built elsewhere) are not checked. The chart is
    refreshed when older than ``CHART_MAX_AGE``; a limiter wait propagates (the push waits),
    any other failure to read Xero falls back to the cached copy.
    """
    if not entries or not link_has_mapping(link):
        return {}
    cache = ChartCache.objects.filter(tenant=link.xero_tenant).first()
    if cache is None or cache.refreshed_at < timezone.now() - CHART_MAX_AGE:
        try:
            cache = chart_refresh(link.xero_tenant)
        except http.RetryLater:
            raise
        except http.ProviderError as exc:
            if cache is None:
                return {}
            log.warning("chart refresh failed link=%s: %s; using the cached copy", link.pk, exc)
    chart = chart_of(cache)
    mapping = mapping_set_for(link)
    reasons = {}
    for entry in entries:
        message = document_problem(chart, mapping, entry.payload)
        if message:
            reasons[entry.pk] = f"{REMAP}{message}"
    return reasons


# ---------------------------------------------------------------- the pages


@dataclass
class Overview:
    """What the mapping and review pages show besides the form."""

    link: Link
    read: ChartRead
    mapping: MappingSet
    problems: list[Problem]
    groups: list[tuple[str, list[Category]]]  # registry categories by group
    attention: list[Category]  # met but not mapped: "map this" (unknown ones first)
    unmapped_payments: set[str]
    held: list[tuple[str, int]]
    mapped: int
    total: int

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def todos(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "todo"]

    @property
    def alerts(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "alert"]


def mapping_overview(link: Link, read: ChartRead) -> Overview:
    mapping = mapping_set_for(link)
    needs = needs_for(link)
    categories = categories_for(link)
    seen = {s.key for s in SeenItem.objects.filter(link=link, kind=SeenItem.Kind.CATEGORY)}
    attention = sorted(
        (c for c in categories if c.key in seen and c.key not in mapping.targets),
        key=lambda c: (not c.unmapped, c.label),
    )
    attention_keys = {c.key for c in attention}
    groups: dict[str, list[Category]] = {}
    for category in categories:
        if category.key not in attention_keys:
            groups.setdefault(category.group, []).append(category)
    methods = payment_methods_for(link)
    return Overview(
        link=link,
        read=read,
        mapping=mapping,
        problems=mapping_problems(mapping, read.chart, needs),
        groups=list(groups.items()),
        attention=attention,
        unmapped_payments={k for k in methods if not mapping.payment_methods.get(k)},
        held=held_summary(link),
        mapped=sum(1 for c in categories if c.key in mapping.targets),
        total=len(categories),
    )


def mapping_finish(link: Link) -> list[Problem]:
    """The review step's Finish: refused while a mapping is broken; records the review."""
    problems = [p for p in mapping_validate(link) if p.blocking]
    if problems:
        return problems
    with transaction.atomic():
        stored = settings_for(link)
        stored.reviewed_at = timezone.now()
        stored.save(update_fields=["reviewed_at", "updated_at"])
    transaction.on_commit(lambda: _release_later(link.pk))
    return []


def mapping_step_state(customer_links: Iterable[Link]) -> tuple[bool, bool]:
    """(mapping done, review done) for the wizard: every link has its required accounts
    chosen, and an owner finished its review. Cheap: no Xero call."""
    links = list(customer_links)
    if not links:
        return False, False
    stored = {
        s.link_id: s for s in MappingSettings.objects.filter(link__in=[lk.pk for lk in links])
    }
    mapped = all(
        lk.pk in stored
        and all(getattr(stored[lk.pk], name) for name in required_settings(lk))
        and CategoryMapping.objects.filter(link=lk).exists()
        for lk in links
    )
    reviewed = all(lk.pk in stored and stored[lk.pk].reviewed_at is not None for lk in links)
    return mapped, reviewed
