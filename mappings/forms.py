"""The mapping page's form: one select per category field, built from the tenant's live chart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django import forms

from mappings.categories import Category
from mappings.chart import Chart
from mappings.resolve import MappingSet, Target
from mappings.services import SETTING_FIELDS, MappingInput
from mappings.suggest import Suggestion
from mappings.validate import SETTING_LABELS, Problem

SEP = "|"  # tracking choices are "Category|Option"
CLASS_LABELS = {
    "REVENUE": "Revenue",
    "EXPENSE": "Expenses",
    "ASSET": "Assets",
    "LIABILITY": "Liabilities",
    "EQUITY": "Equity",
}
MAX_UPLOAD = 1_000_000  # a template is a few kB


def _name(prefix: str, key: str) -> str:
    return f"{prefix}__{key}"


def account_choices(
    chart: Chart, current: str, *, banks_only: bool = False, bill: bool = False
) -> list[Any]:
    """Active postable accounts with code and name, grouped by class; an unavailable current
    code stays selectable (shown as such) so the page can say what is wrong with it."""
    choices: list[Any] = [("", "— not mapped —")]
    if bill:
        choices.append((MappingSet.BILL, "A bill to Amazon Business (Pay by Invoice)"))
    accounts = chart.bank_accounts() if banks_only else chart.postable_accounts()
    by_class: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for account in accounts:
        label = account.display
        if account.is_bank and account.bank_account_type == "CREDITCARD":
            label += " (credit card)"
        if account.currency and account.currency != chart.base_currency:
            label += f" ({account.currency})"
        by_class[CLASS_LABELS.get(account.account_class, account.account_class)].append(
            (account.code, label)
        )
    choices.extend((group, rows) for group, rows in by_class.items())
    codes = {a.code.upper() for a in accounts}
    if current and current.upper() not in codes and current != MappingSet.BILL:
        known = chart.account(current)
        what = f"{known.display}, {known.status.lower()}" if known else f"{current}, not in Xero"
        choices.append(("Not usable in Xero", [(current, f"{what}")]))
    return choices


def tax_choices(chart: Chart, current: str) -> list[tuple[str, str]]:
    choices = [("", "— choose —")]
    choices += [
        (r.tax_type, f"{r.name} ({r.percent.normalize():f}%)") for r in chart.active_rates()
    ]
    if current and current.upper() not in {r.tax_type.upper() for r in chart.active_rates()}:
        choices.append((current, f"{current} (not usable in Xero)"))
    return choices


def tracking_choices(chart: Chart, current: str) -> list[Any]:
    choices: list[Any] = [("", "— none —")]
    for category in chart.tracking:
        if category.active:
            choices.append(
                (
                    category.name,
                    [(f"{category.name}{SEP}{o}", o) for o in category.active_options()],
                )
            )
    valid = {f"{c.name}{SEP}{o}" for c in chart.tracking for o in c.active_options()}
    if current and current not in valid:
        choices.append(("Not usable in Xero", [(current, current.replace(SEP, ": "))]))
    return choices


def _pair(value: str) -> tuple[str, str] | None:
    if not value or SEP not in value:
        return None
    category, option = value.split(SEP, 1)
    return (category, option)


@dataclass
class Row:
    """One line of the page: a category (or payment method, marketplace, setting) and its
    fields, the plain-words problems with it and a badge ("map this", "unknown")."""

    key: str
    label: str
    fields: list[forms.BoundField]
    notes: list[str] = field(default_factory=list)
    badge: str = ""
    hint: str = ""


class MappingForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        categories: list[Category],
        chart: Chart,
        mapping: MappingSet,
        marketplaces: dict[str, tuple[str, str, str]],
        payment_methods: dict[str, str],
        settings: tuple[str, ...] = SETTING_FIELDS,
        suggestion: Suggestion | None = None,
        read_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.categories = categories
        self.chart = chart
        self.marketplaces = marketplaces
        self.payment_methods = payment_methods
        self.settings = settings
        self.notes: dict[str, list[str]] = defaultdict(list)
        self.suggested: set[str] = set()
        pick = suggestion or Suggestion()

        def initial(name: str, saved: str, proposed: str) -> str:
            if not saved and proposed:
                self.suggested.add(name)
                return proposed
            return saved

        for category in categories:
            saved = mapping.target(category.key) or Target("", "")
            proposed = pick.targets.get(category.key) or Target("", "")
            pairs = [f"{c}{SEP}{o}" for c, o in saved.tracking] + ["", ""]
            account = initial(_name("acc", category.key), saved.account_code, proposed.account_code)
            tax = saved.tax_type if saved.account_code else proposed.tax_type
            if not saved.account_code and proposed.tax_type:
                self.suggested.add(_name("tax", category.key))
            self.fields[_name("acc", category.key)] = forms.ChoiceField(
                label=f"Account for {category.label}",
                choices=account_choices(chart, account),
                required=False,
                initial=account,
            )
            self.fields[_name("tax", category.key)] = forms.ChoiceField(
                label=f"Tax rate for {category.label}",
                choices=tax_choices(chart, tax),
                required=False,
                initial=tax,
            )
            for n in (1, 2):
                self.fields[_name(f"trk{n}", category.key)] = forms.ChoiceField(
                    label=f"Tracking {n} for {category.label}",
                    choices=tracking_choices(chart, pairs[n - 1]),
                    required=False,
                    initial=pairs[n - 1],
                )
        for name in settings:
            saved_code = getattr(mapping, name)
            value = initial(_name("set", name), saved_code, getattr(pick, name))
            self.fields[_name("set", name)] = forms.ChoiceField(
                label=SETTING_LABELS[name].capitalize(),
                choices=account_choices(chart, value, banks_only=False),
                required=False,
                initial=value,
            )
        for marketplace_id, (market, _currency, _country) in marketplaces.items():
            self.fields[_name("mkc", marketplace_id)] = forms.CharField(
                label=f"Xero contact for {market}",
                max_length=255,
                required=False,
                initial=mapping.marketplace_contacts.get(marketplace_id, market),
            )
            saved_pair = mapping.marketplace_tracking.get(marketplace_id)
            proposed_pair = pick.marketplace_tracking.get(marketplace_id)
            value = initial(
                _name("mkt", marketplace_id),
                f"{saved_pair[0]}{SEP}{saved_pair[1]}" if saved_pair else "",
                f"{proposed_pair[0]}{SEP}{proposed_pair[1]}" if proposed_pair else "",
            )
            self.fields[_name("mkt", marketplace_id)] = forms.ChoiceField(
                label=f"Tracking option for {market}",
                choices=tracking_choices(chart, value),
                required=False,
                initial=value,
            )
        for key, label in payment_methods.items():
            value = initial(
                _name("pay", key),
                mapping.payment_methods.get(key, ""),
                pick.payment_methods.get(key, ""),
            )
            self.fields[_name("pay", key)] = forms.ChoiceField(
                label=f"Account for {label}",
                choices=account_choices(chart, value, banks_only=True, bill=key == "invoice"),
                required=False,
                initial=value,
            )
        if read_only:
            for form_field in self.fields.values():
                form_field.disabled = True

    # ------------------------------------------------------------ reading

    def to_input(self) -> MappingInput:
        data = self.cleaned_data
        result = MappingInput()
        for category in self.categories:
            code = data.get(_name("acc", category.key)) or ""
            tracking = tuple(
                pair
                for pair in (_pair(data.get(_name(f"trk{n}", category.key)) or "") for n in (1, 2))
                if pair
            )
            result.targets[category.key] = (
                Target(code, data.get(_name("tax", category.key)) or "", tracking) if code else None
            )
        for name in self.settings:
            result.settings[name] = data.get(_name("set", name)) or ""
        for marketplace_id in self.marketplaces:
            result.marketplace_contacts[marketplace_id] = (
                data.get(_name("mkc", marketplace_id)) or ""
            ).strip()
            result.marketplace_tracking[marketplace_id] = _pair(
                data.get(_name("mkt", marketplace_id)) or ""
            )
        for key in self.payment_methods:
            result.payment_methods[key] = data.get(_name("pay", key)) or ""
        return result

    # ------------------------------------------------------------ showing problems

    def add_problems(self, problems: list[Problem]) -> list[str]:
        """Attach each problem to its field; return the ones that belong to no field."""
        loose = []
        for problem in problems:
            kind, _, key = problem.key.partition(":")
            name = ""
            if kind == "category":
                prefix = {"tax_type": "tax", "tracking": "trk1"}.get(problem.field, "acc")
                name = _name(prefix, key)
            elif kind == "setting":
                name = _name("set", key)
            elif kind == "payment":
                name = _name("pay", key)
            elif kind == "marketplace" and problem.field == "tracking":
                name = _name("mkt", key)
            if name in self.fields:
                self.notes[name].append(problem.message)
            else:
                loose.append(problem.message)
        return loose

    def category_row(self, category: Category, *, badge: str = "") -> Row:
        names = [_name(p, category.key) for p in ("acc", "tax", "trk1", "trk2")]
        return Row(
            key=category.key,
            label=category.label,
            fields=[self[n] for n in names],
            notes=[m for n in names for m in self.notes.get(n, [])],
            badge=badge,
            hint="suggested" if any(n in self.suggested for n in names[:1]) else "",
        )

    def setting_rows(self) -> list[Row]:
        return [
            Row(
                key=name,
                label=SETTING_LABELS[name].capitalize(),
                fields=[self[_name("set", name)]],
                notes=self.notes.get(_name("set", name), []),
                hint="suggested" if _name("set", name) in self.suggested else "",
            )
            for name in self.settings
        ]

    def marketplace_rows(self) -> list[Row]:
        return [
            Row(
                key=marketplace_id,
                label=f"{market} ({currency})" if currency else market,
                fields=[self[_name("mkc", marketplace_id)], self[_name("mkt", marketplace_id)]],
                notes=self.notes.get(_name("mkt", marketplace_id), []),
            )
            for marketplace_id, (market, currency, _country) in self.marketplaces.items()
        ]

    def payment_rows(self, *, unmapped: set[str]) -> list[Row]:
        return [
            Row(
                key=key,
                label=label,
                fields=[self[_name("pay", key)]],
                notes=self.notes.get(_name("pay", key), []),
                badge="map this" if key in unmapped else "",
                hint="suggested" if _name("pay", key) in self.suggested else "",
            )
            for key, label in self.payment_methods.items()
        ]


class ImportForm(forms.Form):
    template = forms.FileField(
        label="Mapping template (JSON)",
        help_text="A file exported from another link's mapping page.",
    )

    def clean_template(self) -> Any:
        upload = self.cleaned_data["template"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                "This file is too large to be a mapping template: choose the .json file you "
                "exported from a mapping page."
            )
        return upload
