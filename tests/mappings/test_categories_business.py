"""Amazon Business lines and payment methods as categories (pure: no database, no network)."""

from __future__ import annotations

from datetime import date

import pytest

from mappings.categories_business import (
    BOOKS,
    BUSINESS_CATEGORIES,
    CLEANING,
    FURNITURE,
    IT_EQUIPMENT,
    OFFICE_SUPPLIES,
    SHIPPING,
    SOFTWARE,
    TAX,
    business_charge_category,
    business_line_category,
    payment_method_key,
    payment_method_label,
)
from sandbox.datagen.business import BuyerSpec, generate_buyer


def test_registry_keys_are_unique_and_namespaced() -> None:
    keys = [c.key for c in BUSINESS_CATEGORIES]
    assert len(keys) == len(set(keys))
    assert all(
        k.startswith("business:") and c.source == "business"
        for k, c in zip(keys, BUSINESS_CATEGORIES, strict=True)
    )
    assert {c.group for c in BUSINESS_CATEGORIES} == {"Expenses", "Line-item types", "Taxes"}


@pytest.mark.parametrize(
    "field",
    ["GL code", "GL Code", "gl_code", "GL-CODE", "GL account", "General Ledger Code", "glCode"],
)
def test_a_gl_code_wins_over_the_product_code_whatever_the_field_is_called(field: str) -> None:
    line = {
        "unspsc": "44121701",
        "productTitle": "Ballpoint Pens",
        "businessOrderInfo": {"Cost center": "CC-100", field: " 6100-Marketing "},
    }
    category = business_line_category(line)
    assert category.key == "business:gl:6100-marketing"
    assert category.label == "GL code 6100-Marketing"
    assert category.group == "GL codes" and not category.unmapped


def test_a_blank_gl_code_falls_back_to_the_product() -> None:
    line = {"unspsc": "44121701", "businessOrderInfo": {"GL code": "  ", "Cost center": ""}}
    assert business_line_category(line) is OFFICE_SUPPLIES


@pytest.mark.parametrize(
    ("unspsc", "expected"),
    [
        ("43211602", IT_EQUIPMENT),  # docking station: family 4321
        ("43-23-15-12", SOFTWARE),  # family 4323, written with dashes
        (" 14111507 ", OFFICE_SUPPLIES),  # paper, with spaces
        ("53131626", CLEANING),  # hand sanitiser: family 5313 beats segment 53 (workwear)
        ("56101504", FURNITURE),
        ("55101509", BOOKS),
        (4412, OFFICE_SUPPLIES),  # a number, 4 digits
    ],
)
def test_unspsc_family_then_segment(unspsc: object, expected: object) -> None:
    assert business_line_category({"unspsc": unspsc, "productTitle": "x"}) is expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("BALLPOINT PENS, Blue, 50-Pack", OFFICE_SUPPLIES),
        ("Ergonomic Office Chairs (2)", FURNITURE),
        ("usb-c hub & charger", IT_EQUIPMENT),
        ("Anti-bacterial Wipes", CLEANING),
    ],
)
def test_without_a_product_code_the_title_decides(title: str, expected: object) -> None:
    assert business_line_category({"unspsc": "", "productTitle": title}) is expected


def test_unknown_lines_become_their_own_unmapped_categories() -> None:
    watch = business_line_category({"unspsc": "54111601", "productTitle": "Gold watch"})
    assert watch.unmapped and watch.kind == "suspense" and watch.group == "Unmapped"
    assert watch.key == ("business:unmapped:unspsc-segment-54-timepieces-jewellery-and-gemstones")
    mystery = business_line_category({"productTitle": "Mystery item", "unspsc": "0"})
    assert mystery.unmapped and mystery.label == "Unknown: no product code"
    assert business_line_category({"unspsc": "99000000"}).key == (
        "business:unmapped:unspsc-segment-99"
    )


def test_line_charges_have_their_own_categories() -> None:
    assert business_charge_category("shippingCharge") is SHIPPING
    assert business_charge_category("tax") is TAX
    odd = business_charge_category("carbonFee")
    assert odd.unmapped and "carbonFee" in odd.label


@pytest.mark.parametrize(
    ("transaction", "key", "label"),
    [
        (
            {"paymentInstrumentType": "Visa", "paymentInstrumentLast4Digits": "4242"},
            "card:4242",
            "Visa ending 4242",
        ),
        (
            {"paymentInstrumentType": "AmericanExpress", "paymentInstrumentLast4Digits": "0005"},
            "card:0005",
            "American Express ending 0005",
        ),
        (
            {"paymentInstrumentType": "MASTERCARD", "paymentInstrumentLast4Digits": "**** 5454"},
            "card:5454",
            "Mastercard ending 5454",
        ),
        ({"paymentInstrumentType": "PayByInvoice"}, "invoice", "Pay by Invoice"),
        ({"paymentInstrumentType": "PAY_BY_INVOICE"}, "invoice", "Pay by Invoice"),
        ({"paymentInstrumentType": "Pay by Invoice"}, "invoice", "Pay by Invoice"),
        ({"paymentInstrumentType": "GiftCard"}, "other:giftcard", "Gift card"),
        ({}, "other:unknown", "Unknown payment method"),
    ],
)
def test_payment_methods(transaction: dict[str, str], key: str, label: str) -> None:
    assert payment_method_key(transaction) == key
    assert payment_method_label(transaction) == label


def test_every_sandbox_purchase_line_gets_a_known_category() -> None:
    data = generate_buyer(BuyerSpec(start=date(2026, 1, 1), region="UK", purchases=40))
    keys = set()
    methods = set()
    for transaction in data.transactions:
        methods.add(payment_method_key(transaction))
        for line in transaction["transactionLineItems"]:
            keys.add(business_line_category(line).key)
            without_gl = {k: v for k, v in line.items() if k != "businessOrderInfo"}
            assert not business_line_category(without_gl).unmapped, line["productTitle"]
    # The sandbox buyers type a GL code on every order: each is its own category.
    assert keys == {
        "business:gl:6100-marketing",
        "business:gl:6200-facilities",
        "business:gl:6300-it-equipment",
        "business:gl:6400-office-supplies",
    }
    assert {"card:1111", "invoice", "other:giftcard"} <= methods
