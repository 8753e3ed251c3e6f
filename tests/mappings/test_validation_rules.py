"""Every validation rule, with the message a user reads (pure: a chart as Xero returns it)."""

from __future__ import annotations

from typing import Any

from mappings.chart import Chart, chart_from_xero
from mappings.resolve import MappingSet, Target
from mappings.validate import Needs, Problem, mapping_problems


def _account(code: str, name: str, kind: str, tax: str = "NONE", **extra: Any) -> dict[str, Any]:
    classes = {
        "REVENUE": "REVENUE",
        "OVERHEADS": "EXPENSE",
        "BANK": "ASSET",
        "CURRENT": "ASSET",
        "CURRLIAB": "LIABILITY",
    }
    return {
        "Code": code,
        "Name": name,
        "Type": kind,
        "TaxType": tax,
        "Status": "ACTIVE",
        "Class": classes[kind],
        **extra,
    }


def _rate(tax_type: str, name: str, *, revenue: bool, expenses: bool, **extra: Any) -> dict:
    return {
        "TaxType": tax_type,
        "Name": name,
        "Status": "ACTIVE",
        "EffectiveRate": "20.0000",
        "CanApplyToRevenue": revenue,
        "CanApplyToExpenses": expenses,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToLiabilities": True,
        **extra,
    }


def uk_chart(**changes: Any) -> Chart:
    accounts = [
        _account("090", "Business Bank Account", "BANK", BankAccountType="BANK"),
        _account("092", "Business Credit Card", "BANK", BankAccountType="CREDITCARD"),
        _account("093", "Euro Account", "BANK", BankAccountType="BANK", CurrencyCode="EUR"),
        _account("200", "Sales", "REVENUE", "OUTPUT2"),
        _account("400", "Advertising & Marketing", "OVERHEADS", "INPUT2"),
        _account("429", "General Expenses", "OVERHEADS", "INPUT2"),
        _account("610", "Accounts Receivable", "CURRENT", SystemAccount="DEBTORS"),
        _account("615", "Payment Processor Clearing", "CURRENT", EnablePaymentsToAccount=True),
        _account("620", "Prepayments", "CURRENT"),
        _account("850", "Suspense", "CURRLIAB"),
    ]
    for code, fields in changes.items():
        for account in accounts:
            if account["Code"] == code.removeprefix("a"):
                account.update(fields)
    return chart_from_xero(
        accounts=accounts,
        tax_rates=[
            _rate("OUTPUT2", "20% (VAT on Income)", revenue=True, expenses=False),
            _rate("INPUT2", "20% (VAT on Expenses)", revenue=False, expenses=True),
            _rate("NONE", "No VAT", revenue=True, expenses=True, EffectiveRate="0"),
            _rate(
                "RRINPUT", "5% (VAT on Expenses)", revenue=False, expenses=True, Status="ARCHIVED"
            ),
        ],
        tracking_categories=[
            {
                "Name": "Sales Channel",
                "Status": "ACTIVE",
                "Options": [
                    {"Name": "Amazon UK", "Status": "ACTIVE"},
                    {"Name": "Market stall", "Status": "ARCHIVED"},
                ],
            },
            {"Name": "Old region", "Status": "ARCHIVED", "Options": []},
        ],
        currencies=[{"Code": "GBP"}, {"Code": "EUR"}],
        organisation={"BaseCurrency": "GBP", "CountryCode": "GB", "Name": "Northwind Goods Ltd"},
    )


ADS = "seller:fees:advertising"
NEEDS = Needs(labels={ADS: "Advertising (Sponsored Products)"})


def problems_for(
    mapping: MappingSet, chart: Chart | None = None, needs: Needs = NEEDS
) -> list[Problem]:
    return mapping_problems(mapping, chart or uk_chart(), needs)


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


def test_a_good_mapping_has_no_problems() -> None:
    mapping = MappingSet(
        targets={ADS: Target("400", "INPUT2", (("Sales Channel", "Amazon UK"),))},
        clearing_account="615",
        suspense_account="850",
    )
    assert problems_for(mapping) == []


def test_an_account_missing_from_xero() -> None:
    [problem] = problems_for(MappingSet(targets={ADS: Target("401", "INPUT2")}))
    assert problem.key == f"category:{ADS}" and problem.field == "account" and problem.blocking
    assert problem.message == (
        "Account 401 is not in the Xero chart of accounts (it may have been deleted in Xero): "
        "choose another account for 'Advertising (Sponsored Products)'."
    )


def test_an_archived_account() -> None:
    chart = uk_chart(a400={"Status": "ARCHIVED"})
    [problem] = problems_for(MappingSet(targets={ADS: Target("400", "INPUT2")}), chart)
    assert problem.message == (
        "Account 400 'Advertising & Marketing' was archived in Xero: choose another account "
        "for 'Advertising (Sponsored Products)', or restore the account in Xero."
    )


def test_a_system_account_no_document_may_use() -> None:
    [problem] = problems_for(MappingSet(targets={ADS: Target("610", "NONE")}))
    assert problem.message.startswith(
        "Account 610 'Accounts Receivable' is Xero's Accounts Receivable system account, which "
        "documents cannot post to"
    )


def test_a_tax_rate_that_does_not_exist_or_is_archived() -> None:
    [missing] = problems_for(MappingSet(targets={ADS: Target("400", "INPUT9")}))
    assert missing.field == "tax_type"
    assert missing.message == (
        "Tax rate INPUT9 does not exist in this Xero organisation: choose another tax rate for "
        "'Advertising (Sponsored Products)'."
    )
    [archived] = problems_for(MappingSet(targets={ADS: Target("400", "RRINPUT")}))
    assert archived.message.startswith(
        "Tax rate '5% (VAT on Expenses)' (RRINPUT) is archived in Xero"
    )


def test_a_tax_rate_xero_does_not_allow_on_the_account() -> None:
    # Xero's rule: the rate's CanApplyToExpenses must be true for an expense account.
    [problem] = problems_for(MappingSet(targets={ADS: Target("400", "OUTPUT2")}))
    assert problem.message == (
        "Tax rate '20% (VAT on Income)' cannot be used on account 400 'Advertising & Marketing', "
        "which is an expense account: choose a tax rate Xero allows on it (for example "
        "'20% (VAT on Expenses)', 'No VAT') for 'Advertising (Sponsored Products)'."
    )


def test_no_tax_rate_chosen_is_a_to_do_not_an_error() -> None:
    [problem] = problems_for(MappingSet(targets={ADS: Target("400", "")}))
    assert problem.severity == "todo" and not problem.blocking


def test_tracking_rules() -> None:
    def one(*pairs: tuple[str, str]) -> str:
        [problem] = problems_for(MappingSet(targets={ADS: Target("400", "INPUT2", pairs)}))
        assert problem.field == "tracking"
        return problem.message

    assert one(("Region", "North")).startswith("Tracking category 'Region' does not exist")
    assert one(("Old region", "North")).startswith("Tracking category 'Old region' is archived")
    assert one(("Sales Channel", "Amazon US")).startswith(
        "Tracking option 'Amazon US' is not an option of 'Sales Channel'"
    )
    assert one(("Sales Channel", "Market stall")).startswith(
        "Tracking option 'Market stall' of 'Sales Channel' is archived"
    )
    assert one(("Sales Channel", "Amazon UK"), ("Sales Channel", "Amazon UK")).startswith(
        "The same tracking category is chosen twice"
    )
    assert one(("a", "b"), ("c", "d"), ("e", "f")).startswith(
        "Xero allows at most two tracking categories per line"
    )


def test_payment_methods_need_a_bank_or_card_account_in_the_purchase_currency() -> None:
    needs = Needs(
        payment_methods={"card:4242": "Visa ending 4242", "invoice": "Pay by Invoice"},
        purchase_currencies=("GBP",),
    )
    [not_bank] = problems_for(
        MappingSet(payment_methods={"card:4242": "429", "invoice": "bill"}), needs=needs
    )
    assert not_bank.key == "payment:card:4242"
    assert not_bank.message == (
        "Account 429 'General Expenses' is not a bank or credit-card account in Xero, so "
        "purchases paid with Visa ending 4242 cannot be spent from it: choose a bank or "
        "credit-card account."
    )
    [card_bill] = problems_for(
        MappingSet(payment_methods={"card:4242": "bill", "invoice": "090"}), needs=needs
    )
    assert card_bill.message.startswith(
        "Only Pay by Invoice purchases can post as bills to Amazon Business"
    )
    [currency] = problems_for(
        MappingSet(payment_methods={"card:4242": "093", "invoice": "bill"}), needs=needs
    )
    assert currency.message == (
        "Account 093 'Euro Account' is in EUR but Amazon Business purchases are in GBP: choose "
        "a GBP bank or credit-card account for Visa ending 4242."
    )
    [todo] = problems_for(MappingSet(payment_methods={"invoice": "bill"}), needs=needs)
    assert todo.severity == "todo" and todo.message.startswith("Visa ending 4242 has no account")
    assert (
        problems_for(
            MappingSet(payment_methods={"card:4242": "092", "invoice": "bill"}), needs=needs
        )
        == []
    )


def test_the_clearing_account_must_take_payments() -> None:
    [problem] = problems_for(MappingSet(clearing_account="620"))
    assert problem.key == "setting:clearing_account"
    assert problem.message == (
        "Account 620 'Prepayments' does not accept payments, so Amazon deposits cannot be "
        "recorded against it: in Xero tick 'Enable payments to this account' on it, or choose a "
        "bank account."
    )
    assert problems_for(MappingSet(clearing_account="090")) == []


def test_required_accounts_are_to_dos() -> None:
    needs = Needs(required_settings=("clearing_account", "suspense_account"))
    found = problems_for(MappingSet(), needs=needs)
    assert [(p.key, p.severity) for p in found] == [
        ("setting:clearing_account", "todo"),
        ("setting:suspense_account", "todo"),
    ]
    assert found[1].message == "Choose the suspense account for unknown Amazon categories."


def test_currencies_must_be_enabled() -> None:
    needs = Needs(
        marketplaces={
            "A2NODRKZP88ZB9": ("Amazon.se", "SEK"),
            "A1PA6795UKMFR9": ("Amazon.de", "EUR"),
        },
        purchase_currencies=("USD",),
    )
    assert messages(problems_for(MappingSet(), needs=needs)) == [
        "Amazon.se sells in SEK, which is not enabled in this Xero organisation: add SEK in Xero "
        "under Settings → Currencies, then check again.",
        "Amazon Business purchases are in USD, which is not enabled in this Xero organisation: "
        "add USD in Xero under Settings → Currencies, then check again.",
    ]


def test_unknown_categories_post_to_suspense_with_an_alert_and_new_ones_ask_to_be_mapped() -> None:
    unknown = "seller:unmapped:order-itemfees-carbon-fee"
    needs = Needs(
        labels={unknown: "Unknown: Order / ItemFees / Carbon Fee", ADS: "Advertising"},
        seen={unknown: True, ADS: False},
    )
    alert, todo = problems_for(MappingSet(suspense_account="850"), needs=needs)
    assert alert.severity == "alert" and not alert.blocking
    assert alert.message == (
        "Amazon sent 'Order / ItemFees / Carbon Fee', which we do not recognise: it posts to the "
        "suspense account 850 until you map it."
    )
    assert todo.severity == "todo"
    assert todo.message == "'Advertising' has no account yet: map it so its documents can post."
    # Mapped, the alert goes.
    mapped = MappingSet(
        suspense_account="850",
        targets={unknown: Target("429", "INPUT2"), ADS: Target("400", "INPUT2")},
    )
    assert problems_for(mapped, needs=needs) == []
