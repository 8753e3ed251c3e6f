"""Checking a mapping against the tenant's live chart: every problem in plain words + what to do.

Pure: (MappingSet, Chart, what the link needs) → problems. The rules:

- an account code must exist in the chart, be ACTIVE, and not be one of Xero's own system
  accounts (Accounts Receivable/Payable, the tax account, Retained Earnings…), which no
  document line may post to;
- a tax type must exist, be ACTIVE, and be allowed on the account: Xero allows a tax rate on an
  account only when the rate's ``CanApplyTo<Class>`` flag for the account's class (ASSET,
  EQUITY, EXPENSE, LIABILITY, REVENUE) is true — e.g. a UK "VAT on Income" rate cannot be
  used on an expense account;
- a tracking option must name an active tracking category and an active option of it, at most
  two categories per line and not the same category twice (Xero's limits);
- a payment method maps to a BANK-type account (bank, credit card, PayPal) in the purchases'
  currency, or — Pay by Invoice only — to a bill to the Amazon Business supplier;
- the clearing account must accept payments (a bank account, or an account with "Enable
  payments to this account" ticked), since settlement deposits are payments into it;
- every marketplace's currency (and the purchases' currency) must be enabled in Xero.

Severity: ``error`` (remap needed: documents using it are held instead of failing in Xero),
``todo`` (nothing chosen yet: that category's documents wait), ``alert`` (an Amazon category
we do not recognise: it posts to the suspense account until mapped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mappings.categories_business import payment_method_label_for_key
from mappings.chart import CLASS_WORDS, SYSTEM_ONLY, Account, Chart
from mappings.resolve import MappingSet, Target

SETTING_LABELS = {
    "clearing_account": "the clearing account for Amazon deposits",
    "reserve_account": "the reserve account (money Amazon holds back)",
    "suspense_account": "the suspense account for unknown Amazon categories",
    "rounding_account": "the rounding account",
}


@dataclass(frozen=True)
class Problem:
    key: str  # "category:<key>", "payment:<key>", "setting:<field>", "marketplace:<id>", …
    message: str
    severity: str = "error"  # error, todo, alert
    field: str = ""  # account, tax_type, tracking, contact, currency

    @property
    def blocking(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Needs:
    """What this link's data needs from the mapping."""

    labels: dict[str, str] = field(default_factory=dict)  # category key -> label
    seen: dict[str, bool] = field(default_factory=dict)  # category key met -> unknown?
    payment_methods: dict[str, str] = field(default_factory=dict)  # key -> label
    marketplaces: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> name, cur
    purchase_currencies: tuple[str, ...] = ()  # Amazon Business purchases
    required_settings: tuple[str, ...] = ()


def account_problem(chart: Chart, code: str, purpose: str) -> str:
    account = chart.account(code)
    if account is None:
        return (
            f"Account {code} is not in the Xero chart of accounts (it may have been deleted in "
            f"Xero): choose another account for {purpose}."
        )
    if account.status == "ARCHIVED":
        return (
            f"Account {code} '{account.name}' was archived in Xero: choose another account for "
            f"{purpose}, or restore the account in Xero."
        )
    if not account.active:
        return (
            f"Account {code} '{account.name}' is {account.status.lower()} in Xero: choose "
            f"another account for {purpose}."
        )
    if account.system_only:
        return (
            f"Account {code} '{account.name}' is Xero's {SYSTEM_ONLY[account.system_account]} "
            f"system account, which documents cannot post to: choose another account for "
            f"{purpose}."
        )
    return ""


def tax_problem(chart: Chart, tax_type: str, account: Account | None, purpose: str) -> str:
    rate = chart.rate(tax_type)
    if rate is None:
        return (
            f"Tax rate {tax_type} does not exist in this Xero organisation: choose another tax "
            f"rate for {purpose}."
        )
    if not rate.active:
        return (
            f"Tax rate '{rate.name}' ({rate.tax_type}) is {rate.status.lower()} in Xero: choose "
            f"another tax rate for {purpose}."
        )
    if account is not None and not rate.applies_to(account):
        allowed = [r.name for r in chart.active_rates() if r.applies_to(account)][:4]
        hint = f" (for example {', '.join(repr(a) for a in allowed)})" if allowed else ""
        return (
            f"Tax rate '{rate.name}' cannot be used on account {account.code} '{account.name}', "
            f"which is {CLASS_WORDS.get(account.account_class, 'a')} account: choose a tax rate "
            f"Xero allows on it{hint} for {purpose}."
        )
    return ""


def tracking_problem(chart: Chart, pairs: tuple[tuple[str, str], ...], purpose: str) -> str:
    if len(pairs) > 2:
        return f"Xero allows at most two tracking categories per line: remove one for {purpose}."
    names = [c.strip().lower() for c, _ in pairs]
    if len(set(names)) != len(names):
        return f"The same tracking category is chosen twice for {purpose}: choose it once."
    for category_name, option in pairs:
        category = chart.tracking_category(category_name)
        if category is None or not category.active:
            state = "does not exist" if category is None else "is archived"
            return (
                f"Tracking category '{category_name}' {state} in Xero: choose another tracking "
                f"option for {purpose}, or none."
            )
        status = category.options.get(option)
        if status is None:
            return (
                f"Tracking option '{option}' is not an option of '{category.name}' in Xero: "
                f"choose another option for {purpose}."
            )
        if status != "ACTIVE":
            return (
                f"Tracking option '{option}' of '{category.name}' is archived in Xero: choose "
                f"another option for {purpose}."
            )
    return ""


def target_problems(chart: Chart, key: str, target: Target, label: str) -> list[Problem]:
    purpose = f"'{label}'"
    problems = []
    where = f"category:{key}"
    message = account_problem(chart, target.account_code, purpose)
    if message:
        problems.append(Problem(where, message, field="account"))
    account = chart.account(target.account_code)
    if not target.tax_type:
        problems.append(
            Problem(where, f"Choose a tax rate for {purpose}.", severity="todo", field="tax_type")
        )
    else:
        message = tax_problem(
            chart, target.tax_type, account if account and account.active else None, purpose
        )
        if message:
            problems.append(Problem(where, message, field="tax_type"))
    message = tracking_problem(chart, target.tracking, purpose)
    if message:
        problems.append(Problem(where, message, field="tracking"))
    return problems


def payment_problem(
    chart: Chart, key: str, label: str, value: str, purchase_currencies: tuple[str, ...]
) -> str:
    if value == MappingSet.BILL:
        if key != "invoice":
            return (
                f"Only Pay by Invoice purchases can post as bills to Amazon Business: choose the "
                f"bank or credit-card account that {label} is paid from."
            )
        return ""
    message = account_problem(chart, value, label)
    if message:
        return message
    account = chart.account(value)
    assert account is not None
    if not account.is_bank:
        return (
            f"Account {account.code} '{account.name}' is not a bank or credit-card account in "
            f"Xero, so purchases paid with {label} cannot be spent from it: choose a bank or "
            f"credit-card account."
        )
    currency = account.currency or chart.base_currency
    if len(purchase_currencies) == 1 and currency and currency not in purchase_currencies:
        wanted = purchase_currencies[0]
        return (
            f"Account {account.code} '{account.name}' is in {currency} but Amazon Business "
            f"purchases are in {wanted}: choose a {wanted} bank or credit-card account for "
            f"{label}."
        )
    return ""


def mapping_problems(mapping: MappingSet, chart: Chart, needs: Needs) -> list[Problem]:
    """Every problem with ``mapping`` against ``chart``, in the order a user fixes them."""
    problems: list[Problem] = []
    # Settings first: without a suspense account nothing unknown can post.
    for name in ("clearing_account", "reserve_account", "suspense_account", "rounding_account"):
        code: str = getattr(mapping, name)
        where = f"setting:{name}"
        if not code:
            if name in needs.required_settings:
                problems.append(
                    Problem(
                        where,
                        f"Choose {SETTING_LABELS[name]}.",
                        severity="todo",
                        field="account",
                    )
                )
            continue
        message = account_problem(chart, code, SETTING_LABELS[name])
        if message:
            problems.append(Problem(where, message, field="account"))
            continue
        account = chart.account(code)
        assert account is not None
        if name == "clearing_account" and not account.accepts_payments:
            problems.append(
                Problem(
                    where,
                    f"Account {account.code} '{account.name}' does not accept payments, so "
                    f"Amazon deposits cannot be recorded against it: in Xero tick 'Enable "
                    f"payments to this account' on it, or choose a bank account.",
                    field="account",
                )
            )
    # Currencies the link's documents are in.
    enabled = chart.enabled_currencies()
    for marketplace_id, (name, currency) in sorted(needs.marketplaces.items()):
        if currency and enabled and currency not in enabled:
            problems.append(
                Problem(
                    f"marketplace:{marketplace_id}",
                    f"{name} sells in {currency}, which is not enabled in this Xero "
                    f"organisation: add {currency} in Xero under Settings → Currencies, then "
                    f"check again.",
                    field="currency",
                )
            )
    for currency in needs.purchase_currencies:
        if enabled and currency not in enabled:
            problems.append(
                Problem(
                    f"currency:{currency}",
                    f"Amazon Business purchases are in {currency}, which is not enabled in this "
                    f"Xero organisation: add {currency} in Xero under Settings → Currencies, "
                    f"then check again.",
                    field="currency",
                )
            )
    for marketplace_id, (category, option) in sorted(mapping.marketplace_tracking.items()):
        name = needs.marketplaces.get(marketplace_id, (marketplace_id, ""))[0]
        message = tracking_problem(chart, ((category, option),), f"sales on {name}")
        if message:
            problems.append(Problem(f"marketplace:{marketplace_id}", message, field="tracking"))
    # Categories.
    for key, target in sorted(mapping.targets.items()):
        problems.extend(target_problems(chart, key, target, needs.labels.get(key, key)))
    for key, unknown in needs.seen.items():
        if key in mapping.targets:
            continue
        label = needs.labels.get(key, key)
        if unknown:
            where_to = (
                f"the suspense account {mapping.suspense_account}"
                if mapping.suspense_account
                else "the suspense account (choose one)"
            )
            problems.append(
                Problem(
                    f"category:{key}",
                    f"Amazon sent '{label.removeprefix('Unknown: ')}', which we do not recognise: "
                    f"it posts to {where_to} until you map it.",
                    severity="alert",
                    field="account",
                )
            )
        else:
            problems.append(
                Problem(
                    f"category:{key}",
                    f"'{label}' has no account yet: map it so its documents can post.",
                    severity="todo",
                    field="account",
                )
            )
    # Payment methods.
    for key, label in needs.payment_methods.items():
        value = mapping.payment_methods.get(key, "")
        where = f"payment:{key}"
        if not value:
            problems.append(
                Problem(
                    where,
                    f"{label} has no account yet: choose the bank or credit-card account it is "
                    f"paid from (or a bill, for Pay by Invoice) so its purchases can post.",
                    severity="todo",
                    field="account",
                )
            )
            continue
        message = payment_problem(chart, key, label, value, needs.purchase_currencies)
        if message:
            problems.append(Problem(where, message, field="account"))
    for key, value in mapping.payment_methods.items():
        if key in needs.payment_methods or not value:
            continue
        label = payment_method_label_for_key(key)
        message = payment_problem(chart, key, label, value, needs.purchase_currencies)
        if message:
            problems.append(Problem(f"payment:{key}", message, field="account"))
    return problems
