"""Proposing a mapping from the tenant's own chart: pure (categories, chart) → targets.

Accounts are matched by name (fuzzy: word overlap and ``difflib`` similarity, case and
punctuation ignored, plurals folded) among the accounts whose class fits the category
(revenue categories to revenue accounts, fees to expense accounts, reserves to asset
accounts…), preferring the recommended Amazon accounts when the organisation has them.

Tax types follow the organisation's country and tax system:

- UK (VAT): sales and other income → OUTPUT2 (20% VAT on income); fees and purchases → INPUT2
  (Amazon charges UK VAT on its fees to UK sellers); books → ZERORATEDINPUT; reimbursements
  (compensation, outside the scope of VAT) and balance-sheet lines → NONE.
- US (sales tax): NONE everywhere. Amazon collects and remits sales tax as the marketplace
  facilitator, so a seller's sales carry no tax of their own (TAX001-style rates would charge
  it twice), and sales tax Amazon Business charges on purchases is part of their cost.
- AU (GST): income → OUTPUT (GST on income); expenses → INPUT (GST on expenses); balance-sheet
  lines → BASEXCLUDED.
- Elsewhere: the account's own default tax type when Xero allows it on the account, else the
  first active rate allowed on it.

Whatever the rule picks is used only if it exists, is active and is allowed on the account
(``TaxRate.applies_to``); otherwise the account's default, then any allowed rate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from mappings.categories import Category
from mappings.chart import Account, Chart
from mappings.resolve import MappingSet, Target

THRESHOLD = 0.62

# Recommended Amazon accounts, created in one click (``accounts_create_recommended``):
# (name, Xero account type, description, enable payments, which countries: empty = all).
RECOMMENDED: list[tuple[str, str, str, bool, tuple[str, ...], str]] = [
    ("Amazon Sales", "REVENUE", "Sales on Amazon marketplaces", False, (), "seller"),
    ("Amazon Refunds", "REVENUE", "Refunds to Amazon buyers", False, (), "seller"),
    ("Amazon Promotions", "REVENUE", "Promotions and discounts on Amazon", False, (), "seller"),
    (
        "Amazon Reimbursements",
        "OTHERINCOME",
        "Amazon reimbursements for lost or damaged stock",
        False,
        (),
        "seller",
    ),
    ("Amazon Selling Fees", "DIRECTCOSTS", "Referral, closing and other fees", False, (), "seller"),
    ("Amazon FBA Fees", "DIRECTCOSTS", "Fulfilment, storage and inbound fees", False, (), "seller"),
    ("Amazon Advertising", "EXPENSE", "Sponsored Products and other ads", False, (), "seller"),
    ("Amazon Reserve", "CURRENT", "Money Amazon holds back from a settlement", False, (), "seller"),
    (
        "Amazon Clearing",
        "CURRENT",
        "Amazon settlements waiting to reach the bank",
        True,
        (),
        "seller",
    ),
    (
        "Amazon Sales Tax Clearing",
        "CURRLIAB",
        "Sales tax Amazon collects and remits as marketplace facilitator",
        False,
        ("US",),
        "seller",
    ),
    ("Amazon Suspense", "CURRLIAB", "Amazon amounts waiting to be mapped", False, (), "any"),
]

# Phrases an account name may use for a category hint, best first; the recommended account
# names lead so that they win once created.
SYNONYMS: dict[str, list[str]] = {
    "sales": ["amazon sales", "sales", "revenue", "income"],
    "shipping": ["amazon sales", "shipping income", "delivery income", "sales"],
    "refunds": ["amazon refunds", "sales refunds", "refunds", "amazon sales", "sales"],
    "promotions": ["amazon promotions", "promotions", "discounts given", "amazon sales", "sales"],
    "reimbursements": ["amazon reimbursements", "reimbursements", "other revenue", "other income"],
    "fees": ["amazon selling fees", "amazon fees", "selling fees", "merchant fees", "commission"],
    "fba": ["amazon fba fees", "fba fees", "fulfilment fees", "amazon selling fees"],
    "advertising": ["amazon advertising", "advertising", "advertising and marketing", "marketing"],
    "reserve": ["amazon reserve", "amazon reserves", "reserve"],
    "clearing": ["amazon clearing", "payment processor clearing", "clearing"],
    "tax-clearing": ["amazon sales tax clearing", "sales tax clearing", "amazon clearing"],
    "vat": ["amazon sales tax clearing", "sales tax clearing"],
    "suspense": ["amazon suspense", "suspense"],
    "office supplies": ["office supplies", "printing and stationery", "office expenses"],
    "computer equipment": [
        "computer equipment",
        "it equipment",
        "it software and consumables",
        "office equipment",
    ],
    "software": [
        "software",
        "it software and consumables",
        "subscriptions",
        "dues and subscriptions",
    ],
    "cleaning": ["cleaning", "cleaning supplies", "office expenses"],
    "furniture": ["furniture", "office furniture", "office equipment"],
    "kitchen refreshments": ["staff amenities", "refreshments", "kitchen", "office expenses"],
    "books subscriptions": ["books", "subscriptions", "dues and subscriptions"],
    "health safety": ["health and safety", "first aid", "general expenses"],
    "electrical": ["light power heating", "utilities", "repairs and maintenance"],
    "packaging postage": ["packaging", "postage freight and courier", "postage and delivery"],
    "repairs maintenance": ["repairs and maintenance", "tools", "equipment"],
    "office equipment": ["office equipment", "equipment", "office expenses"],
    "printing": ["printing and stationery", "printing", "office expenses"],
    "uniforms": ["uniforms", "workwear", "general expenses"],
    "materials": ["materials", "cost of goods sold", "direct expenses"],
    "motor vehicle": ["motor vehicle expenses", "vehicle expenses"],
    "equipment": ["equipment", "office equipment"],
    "consulting": ["consulting", "consulting and accounting", "professional fees"],
    "postage freight courier": [
        "postage freight and courier",
        "postage and delivery",
        "freight and courier",
        "shipping",
        "postage",
    ],
    "travel": ["travel national", "travel", "entertainment"],
    "training": ["training", "education", "general expenses"],
    "discount": ["discounts received", "general expenses"],
    "purchase tax": ["sales tax paid", "general expenses"],
    "general": ["general expenses", "office expenses", "sundry expenses"],
}
# Category kind → account classes it may post to.
CLASSES: dict[str, tuple[str, ...]] = {
    "revenue": ("REVENUE",),
    "expense": ("EXPENSE",),
    "asset": ("ASSET",),
    "liability": ("LIABILITY",),
    "clearing": ("ASSET", "LIABILITY"),
    "suspense": ("LIABILITY", "ASSET"),
    "tax": ("LIABILITY", "ASSET"),
}
UK_BOOKS_KEY = "business:expense:books"
# Amazon marketplace country → the word a tracking option would use ("Amazon UK").
COUNTRY_WORDS = {"GB": "UK", "US": "US", "DE": "DE", "AU": "AU", "CA": "CA", "FR": "FR"}


@dataclass
class Suggestion:
    targets: dict[str, Target] = field(default_factory=dict)
    clearing_account: str = ""
    reserve_account: str = ""
    suspense_account: str = ""
    rounding_account: str = ""
    marketplace_tracking: dict[str, tuple[str, str]] = field(default_factory=dict)
    payment_methods: dict[str, str] = field(default_factory=dict)


def words(text: str) -> list[str]:
    raw = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and "))
    folded = []
    for word in raw:
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        folded.append(word)
    return folded


def similarity(query: str, name: str) -> float:
    """0..1: how well an account ``name`` answers ``query`` ("fees" ~ "Amazon Selling Fees")."""
    q, n = words(query), words(name)
    if not q or not n:
        return 0.0
    ratio = SequenceMatcher(None, " ".join(q), " ".join(n)).ratio()
    found = len(set(q) & set(n)) / len(set(q))
    extra = len(set(n) - set(q)) / len(set(n))
    overlap = found * (0.92 - 0.15 * extra) if found == 1 else found * 0.7
    # Character similarity catches typos ("Advertsing"); below 0.85 it mostly rewards shared
    # endings ("Office Expenses" ~ "Direct Expenses"), so it counts for less.
    return max(overlap, ratio if ratio >= 0.85 else ratio * 0.6)


def _hint_key(category: Category) -> str:
    if category.source == "seller" and category.hint == "fees":
        key = category.key
        if "advertising" in key:
            return "advertising"
        if any(w in key for w in ("fba", "storage", "inbound", "removal")):
            return "fba"
    if category.source == "business" and category.kind == "tax":
        return "purchase tax"
    return category.hint


def candidates(chart: Chart, category: Category) -> list[Account]:
    classes = CLASSES.get(category.kind, ("EXPENSE",))
    if category.source == "business" and category.kind == "tax":
        classes = ("EXPENSE",)
    accounts = [a for a in chart.postable_accounts() if a.account_class in classes]
    if category.kind == "clearing":
        accounts = [a for a in accounts if a.accepts_payments] or accounts
    elif category.kind != "payment_method":
        accounts = [a for a in accounts if not a.is_bank]
    return accounts


def best_account(
    accounts: Iterable[Account], phrases: list[str], *, threshold: float = THRESHOLD
) -> Account | None:
    best: tuple[float, Account] | None = None
    for account in accounts:
        for rank, phrase in enumerate(phrases):
            score = similarity(phrase, account.name) - 0.03 * rank
            if best is None or score > best[0]:
                best = (score, account)
    if best is None or best[0] < threshold:
        return None
    return best[1]


def suggest_account(chart: Chart, category: Category) -> Account | None:
    if category.unmapped:
        return None  # unknown categories post to suspense with an alert until a person maps them
    if category.source == "business" and category.kind == "tax" and chart.country != "US":
        # VAT/GST on purchases stays on the expense lines as their tax; only US sales tax
        # (part of the cost) is booked as a line of its own.
        return None
    accounts = candidates(chart, category)
    hint = _hint_key(category)
    if category.hint == "gl":
        # A GL code may be the Xero account code itself, or carry the account's name.
        raw = category.label.removeprefix("GL code ").strip()
        for token in [raw, *re.split(r"[\s\-_/]+", raw)]:
            account = chart.account(token)
            if account is not None and account in chart.postable_accounts():
                return account
        text = " ".join(w for w in words(raw) if not w.isdigit())
        return best_account(accounts, [text] if text else [], threshold=0.55) or best_account(
            accounts, SYNONYMS["general"]
        )
    if category.group == "Line-item types" and hint not in SYNONYMS:
        # Shipping, gift wrap, fees and discounts stay on the item's line unless mapped: only
        # an account that clearly fits is proposed.
        return best_account(accounts, [category.label], threshold=0.8)
    phrases = [*SYNONYMS.get(hint, []), category.label]
    found = best_account(accounts, phrases)
    if found is not None:
        return found
    if category.group == "Line-item types":
        return None
    fallback = {
        "revenue": SYNONYMS["sales"],
        "expense": SYNONYMS["general"],
        "suspense": SYNONYMS["suspense"],
        # Tax Amazon collects and withholds posts both ways and nets to zero: a clearing
        # account that takes payments is the next best place.
        "tax": SYNONYMS["clearing"],
    }.get(category.kind)
    return best_account(accounts, fallback, threshold=0.5) if fallback else None


def suggest_tax_type(chart: Chart, category: Category, account: Account) -> str:
    country = chart.country
    balance_sheet = account.account_class in ("ASSET", "LIABILITY", "EQUITY")
    wanted: list[str] = []
    if country == "GB":
        if balance_sheet or category.hint == "reimbursements":
            wanted = ["NONE"]
        elif category.key == UK_BOOKS_KEY:
            wanted = ["ZERORATEDINPUT"]
        elif account.account_class == "REVENUE":
            wanted = ["OUTPUT2", "OUTPUT"]
        else:
            wanted = ["INPUT2", "INPUT"]
    elif country == "US":
        wanted = ["NONE"]
    elif country == "AU":
        if balance_sheet:
            wanted = ["BASEXCLUDED"]
        elif account.account_class == "REVENUE":
            wanted = ["OUTPUT"]
        else:
            wanted = ["INPUT"]
    wanted.append(account.tax_type)
    for tax_type in wanted:
        rate = chart.rate(tax_type) if tax_type else None
        if rate is not None and rate.active and rate.applies_to(account):
            return rate.tax_type
    allowed = [r for r in chart.active_rates() if r.applies_to(account)]
    zero = [r for r in allowed if not r.percent]
    return (zero or allowed)[0].tax_type if (zero or allowed) else ""


def suggest_setting(chart: Chart, name: str) -> str:
    accounts = [a for a in chart.postable_accounts() if not a.is_bank]
    if name == "rounding_account":
        rounding = next((a for a in chart.accounts if a.system_account == "ROUNDING"), None)
        return rounding.code if rounding and rounding.active else ""
    if name == "clearing_account":
        payable = [a for a in chart.postable_accounts() if a.accepts_payments and not a.is_bank]
        found = best_account(payable, SYNONYMS["clearing"])
        return found.code if found else ""
    if name == "reserve_account":
        found = best_account(
            [a for a in accounts if a.account_class == "ASSET"], SYNONYMS["reserve"]
        )
        return found.code if found else ""
    if name == "suspense_account":
        found = best_account(
            [a for a in accounts if a.account_class in ("LIABILITY", "ASSET")], SYNONYMS["suspense"]
        )
        return found.code if found else ""
    return ""


def suggest_tracking(chart: Chart, marketplace_name: str, country: str) -> tuple[str, str] | None:
    """A "Sales channel"-like tracking option for a marketplace ("Amazon.co.uk" → "Amazon UK")."""
    categories = [c for c in chart.tracking if c.active]
    channel = None
    for category in categories:
        if similarity("sales channel", category.name) >= 0.6 or "channel" in words(category.name):
            channel = category
            break
        if "marketplace" in words(category.name):
            channel = category
            break
    if channel is None:
        return None
    word = COUNTRY_WORDS.get(country.upper(), country.upper())
    phrases = [f"amazon {word}", marketplace_name]
    best: tuple[float, str] | None = None
    for option in channel.active_options():
        for rank, phrase in enumerate(phrases):
            score = similarity(phrase, option) - 0.03 * rank
            if best is None or score > best[0]:
                best = (score, option)
    if best is None or best[0] < 0.75:
        return None
    return (channel.name, best[1])


def suggest_payment_method(chart: Chart, key: str, label: str) -> str:
    if key == "invoice":
        return MappingSet.BILL
    banks = chart.bank_accounts()
    if key == "invoice-payment":
        # Amazon's invoices are paid from the main bank account in the base currency.
        current = [
            a
            for a in banks
            if a.bank_account_type in ("BANK", "") and a.currency in ("", chart.base_currency)
        ]
        return current[0].code if current else ""
    if key.startswith("card:"):
        last4 = key.removeprefix("card:")
        for account in banks:
            digits = re.sub(r"\D", "", f"{account.name} {account.bank_number}")
            if digits.endswith(last4):
                return account.code
        cards = [a for a in banks if a.bank_account_type == "CREDITCARD"]
        if len(cards) == 1:
            return cards[0].code
        found = best_account(cards, [label, "credit card"], threshold=0.5)
        return found.code if found else ""
    return ""


def mapping_suggestion(
    chart: Chart,
    categories: Iterable[Category],
    *,
    marketplaces: dict[str, tuple[str, str, str]],  # id -> (name, currency, country)
    payment_methods: dict[str, str],
    settings: Iterable[str],
) -> Suggestion:
    suggestion = Suggestion()
    for category in categories:
        account = suggest_account(chart, category)
        if account is None:
            continue
        suggestion.targets[category.key] = Target(
            account_code=account.code, tax_type=suggest_tax_type(chart, category, account)
        )
    for name in settings:
        setattr(suggestion, name, suggest_setting(chart, name))
    for marketplace_id, (name, _currency, country) in marketplaces.items():
        pair = suggest_tracking(chart, name, country)
        if pair:
            suggestion.marketplace_tracking[marketplace_id] = pair
    for key, label in payment_methods.items():
        value = suggest_payment_method(chart, key, label)
        if value:
            suggestion.payment_methods[key] = value
    return suggestion
