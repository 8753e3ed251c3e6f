"""Seller Central settlement categories: what each settlement row is, as data.

A settlement row is named by three texts: ``transaction-type`` (Order, Refund,
other-transaction, ServiceFee …), ``amount-type`` (ItemPrice, ItemFees, Promotion …) and
``amount-description`` (Principal, Commission, Storage Fee …). ``settlement_category`` turns
the three into the category a user maps to a Xero account. Comparison ignores case, spaces and
punctuation (``other-transaction`` and ``Other Transaction`` both occur; reserve descriptions
carry a trailing space). The vocabulary is open (reference note amazon-api.md §7): a
combination no rule knows becomes its own *unmapped* category, posted to the suspense account
with an alert, never dropped.

Rules are tried from the most to the least specific: (transaction, amount type, description),
then (amount type, description), then amount type alone (only for families whose every
member belongs together, e.g. every "Cost of Advertising" line), then transaction type alone
(fees Amazon books as their own transaction, e.g. "Lightning Deal Fee"). ``ItemFees`` has no
catch-all: an item fee Amazon invents tomorrow must reach suspense, not hide among known fees.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mappings.categories import Category, unmapped_category


def _c(key: str, label: str, group: str, kind: str, hint: str) -> Category:
    return Category(
        key=f"seller:{key}", label=label, group=group, source="seller", kind=kind, hint=hint
    )


SALES = _c("sales:principal", "Product sales", "Sales", "revenue", "sales")
SALES_SHIPPING = _c("sales:shipping", "Shipping charged to buyers", "Sales", "revenue", "shipping")
SALES_GIFTWRAP = _c("sales:giftwrap", "Gift wrap charged to buyers", "Sales", "revenue", "sales")
SALES_OTHER = _c(
    "sales:other", "Other sales income (restocking fees, COD)", "Sales", "revenue", "sales"
)
REFUNDS = _c("refunds:principal", "Product refunds", "Refunds", "revenue", "refunds")
REFUNDS_SHIPPING = _c("refunds:shipping", "Shipping refunded", "Refunds", "revenue", "refunds")
REFUNDS_GIFTWRAP = _c("refunds:giftwrap", "Gift wrap refunded", "Refunds", "revenue", "refunds")
REFUNDS_GOODWILL = _c(
    "refunds:goodwill", "Goodwill credits to buyers", "Refunds", "revenue", "refunds"
)
TAX_COLLECTED = _c(
    "tax:collected",
    "Tax on sales and refunds (VAT / sales tax)",
    "Taxes",
    "tax",
    "vat",
)
TAX_FACILITATOR = _c(
    "tax:facilitator",
    "Marketplace facilitator tax withheld by Amazon",
    "Taxes",
    "tax",
    "tax-clearing",
)
TAX_WITHHELD_OTHER = _c(
    "tax:withheld", "Other tax withheld by Amazon (TCS, TDS)", "Taxes", "tax", "tax-clearing"
)
PROMOTIONS = _c(
    "promotions:principal", "Promotional discounts on items", "Promotions", "revenue", "promotions"
)
PROMOTIONS_SHIPPING = _c(
    "promotions:shipping", "Shipping discounts", "Promotions", "revenue", "promotions"
)
PROMOTIONS_OTHER = _c("promotions:other", "Other promotions", "Promotions", "revenue", "promotions")
FEES_COMMISSION = _c("fees:commission", "Referral fees (commission)", "Fees", "expense", "fees")
FEES_REFUND_COMMISSION = _c(
    "fees:refund-commission", "Refund administration fees", "Fees", "expense", "fees"
)
FEES_FBA = _c("fees:fba-fulfilment", "FBA fulfilment fees", "Fees", "expense", "fees")
FEES_CLOSING = _c("fees:closing", "Closing fees", "Fees", "expense", "fees")
FEES_SHIPPING_CHARGEBACK = _c(
    "fees:shipping-chargeback", "Shipping chargebacks", "Fees", "expense", "fees"
)
FEES_GIFTWRAP_CHARGEBACK = _c(
    "fees:giftwrap-chargeback", "Gift wrap chargebacks", "Fees", "expense", "fees"
)
FEES_DIGITAL_SERVICES = _c(
    "fees:digital-services", "Digital services fees", "Fees", "expense", "fees"
)
FEES_OTHER_ITEM = _c(
    "fees:other-item",
    "Other item fees (technology, high-volume listing)",
    "Fees",
    "expense",
    "fees",
)
FEES_SUBSCRIPTION = _c("fees:subscription", "Seller subscription", "Fees", "expense", "fees")
FEES_STORAGE = _c("fees:storage", "FBA storage fees", "Fees", "expense", "fees")
FEES_INBOUND = _c("fees:inbound", "FBA inbound and transportation fees", "Fees", "expense", "fees")
FEES_REMOVAL = _c("fees:removal", "FBA removal and disposal fees", "Fees", "expense", "fees")
FEES_DEALS = _c("fees:deals", "Deals, coupons and Vine fees", "Fees", "expense", "fees")
ADVERTISING = _c("fees:advertising", "Advertising (Sponsored Products)", "Fees", "expense", "fees")
REIMBURSEMENTS = _c(
    "reimbursements:inventory",
    "FBA inventory reimbursements",
    "Reimbursements",
    "revenue",
    "reimbursements",
)
REIMBURSEMENTS_OTHER = _c(
    "reimbursements:other",
    "Other reimbursements (SAFE-T, refund reimbursals)",
    "Reimbursements",
    "revenue",
    "reimbursements",
)
LIQUIDATIONS = _c("sales:liquidations", "FBA liquidation proceeds", "Sales", "revenue", "sales")
RESERVE_HELD = _c(
    "reserve:held",
    "Reserve held by Amazon (Current Reserve Amount)",
    "Reserves",
    "asset",
    "reserve",
)
RESERVE_RELEASED = _c(
    "reserve:released",
    "Reserve released (Previous Reserve Amount Balance)",
    "Reserves",
    "asset",
    "reserve",
)
CARD_CHARGES = _c(
    "transfers:card",
    "Balance charged to your card / payable to Amazon",
    "Transfers",
    "clearing",
    "clearing",
)

SELLER_CATEGORIES: list[Category] = [
    SALES,
    SALES_SHIPPING,
    SALES_GIFTWRAP,
    SALES_OTHER,
    LIQUIDATIONS,
    REFUNDS,
    REFUNDS_SHIPPING,
    REFUNDS_GIFTWRAP,
    REFUNDS_GOODWILL,
    TAX_COLLECTED,
    TAX_FACILITATOR,
    TAX_WITHHELD_OTHER,
    PROMOTIONS,
    PROMOTIONS_SHIPPING,
    PROMOTIONS_OTHER,
    FEES_COMMISSION,
    FEES_REFUND_COMMISSION,
    FEES_FBA,
    FEES_CLOSING,
    FEES_SHIPPING_CHARGEBACK,
    FEES_GIFTWRAP_CHARGEBACK,
    FEES_DIGITAL_SERVICES,
    FEES_OTHER_ITEM,
    FEES_SUBSCRIPTION,
    FEES_STORAGE,
    FEES_INBOUND,
    FEES_REMOVAL,
    FEES_DEALS,
    ADVERTISING,
    REIMBURSEMENTS,
    REIMBURSEMENTS_OTHER,
    RESERVE_HELD,
    RESERVE_RELEASED,
    CARD_CHARGES,
]
BY_KEY: dict[str, Category] = {c.key: c for c in SELLER_CATEGORIES}

# Reserve categories post to the mapping's reserve account (a balance-sheet account).
RESERVE_KEYS = frozenset({RESERVE_HELD.key, RESERVE_RELEASED.key})
# Tax Amazon lists on sales and refunds; with VAT rates on the sales lines it is that VAT.
TAX_COLLECTED_KEYS = frozenset({TAX_COLLECTED.key})

# Transaction types that give money back to a buyer: their ItemPrice rows are refunds.
REFUND_TRANSACTIONS = frozenset(
    {"refund", "chargebackrefund", "atozguaranterefund", "guaranteeclaimrefund"}
)


def norm(text: str) -> str:
    """Case, spaces and punctuation do not matter: ``Other-Transaction`` is ``othertransaction``."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


_ITEM_PRICE = {
    # description: (sale category, refund category)
    "principal": (SALES, REFUNDS),
    "shipping": (SALES_SHIPPING, REFUNDS_SHIPPING),
    "giftwrap": (SALES_GIFTWRAP, REFUNDS_GIFTWRAP),
    "goodwill": (REFUNDS_GOODWILL, REFUNDS_GOODWILL),
    "restockingfee": (SALES_OTHER, SALES_OTHER),
    "codfee": (SALES_OTHER, SALES_OTHER),
    "tax": (TAX_COLLECTED, TAX_COLLECTED),
    "shippingtax": (TAX_COLLECTED, TAX_COLLECTED),
    "giftwraptax": (TAX_COLLECTED, TAX_COLLECTED),
    "codfeetax": (TAX_COLLECTED, TAX_COLLECTED),
}

# (amount type, description) -> category
_PAIRS: dict[tuple[str, str], Category] = {
    ("itemfees", "commission"): FEES_COMMISSION,
    ("itemfees", "refundcommission"): FEES_REFUND_COMMISSION,
    ("itemfees", "fbaperunitfulfillmentfee"): FEES_FBA,
    ("itemfees", "fbaperorderfulfillmentfee"): FEES_FBA,
    ("itemfees", "fbaweightbasedfee"): FEES_FBA,
    ("itemfees", "fbapickandpackfee"): FEES_FBA,
    ("itemfees", "fixedclosingfee"): FEES_CLOSING,
    ("itemfees", "variableclosingfee"): FEES_CLOSING,
    ("itemfees", "shippingchargeback"): FEES_SHIPPING_CHARGEBACK,
    ("itemfees", "shippinghb"): FEES_SHIPPING_CHARGEBACK,
    ("itemfees", "giftwrapchargeback"): FEES_GIFTWRAP_CHARGEBACK,
    ("itemfees", "digitalservicesfee"): FEES_DIGITAL_SERVICES,
    ("itemfees", "digitalservicesfeefba"): FEES_DIGITAL_SERVICES,
    ("itemfees", "technologyfee"): FEES_OTHER_ITEM,
    ("itemfees", "highvolumelistingfee"): FEES_OTHER_ITEM,
    ("itemfees", "salestaxcollectionfee"): FEES_OTHER_ITEM,
    ("shipmentfees", "fbaperorderfulfillmentfee"): FEES_FBA,
    ("shipmentfees", "fbaperunitfulfillmentfee"): FEES_FBA,
    ("shipmentfees", "fbaweightbasedfee"): FEES_FBA,
    ("itemwithheldtax", "marketplacefacilitatortaxprincipal"): TAX_FACILITATOR,
    ("itemwithheldtax", "marketplacefacilitatortaxshipping"): TAX_FACILITATOR,
    ("itemwithheldtax", "marketplacefacilitatortaxgiftwrap"): TAX_FACILITATOR,
    ("itemwithheldtax", "marketplacefacilitatortaxother"): TAX_FACILITATOR,
    ("itemwithheldtax", "marketplacefacilitatorvatprincipal"): TAX_FACILITATOR,
    ("itemwithheldtax", "marketplacefacilitatorvatshipping"): TAX_FACILITATOR,
    ("itemwithheldtax", "tcscgst"): TAX_WITHHELD_OTHER,
    ("itemwithheldtax", "tcssgst"): TAX_WITHHELD_OTHER,
    ("itemwithheldtax", "tcsigst"): TAX_WITHHELD_OTHER,
    ("itemwithheldtax", "tdssection194o"): TAX_WITHHELD_OTHER,
    ("promotion", "principal"): PROMOTIONS,
    ("promotion", "shipping"): PROMOTIONS_SHIPPING,
    ("othertransaction", "subscriptionfee"): FEES_SUBSCRIPTION,
    ("othertransaction", "storagefee"): FEES_STORAGE,
    ("othertransaction", "fbalongtermstoragefee"): FEES_STORAGE,
    ("othertransaction", "fbalongtermstorage"): FEES_STORAGE,
    ("othertransaction", "storagerenewalbilling"): FEES_STORAGE,
    ("othertransaction", "fbastorageutilizationsurcharge"): FEES_STORAGE,
    ("othertransaction", "fbatransportationfee"): FEES_INBOUND,
    ("othertransaction", "fbainboundtransportationfee"): FEES_INBOUND,
    ("othertransaction", "inboundtransportationfee"): FEES_INBOUND,
    ("othertransaction", "fbainboundconveniencefee"): FEES_INBOUND,
    ("othertransaction", "removalcomplete"): FEES_REMOVAL,
    ("othertransaction", "disposalcomplete"): FEES_REMOVAL,
    ("othertransaction", "fbadisposalfee"): FEES_REMOVAL,
    ("othertransaction", "fbaremovalfee"): FEES_REMOVAL,
    ("othertransaction", "refundreimbursal"): REIMBURSEMENTS_OTHER,
    ("othertransaction", "reversalreimbursement"): REIMBURSEMENTS_OTHER,
    ("othertransaction", "currentreserveamount"): RESERVE_HELD,
    ("othertransaction", "previousreserveamountbalance"): RESERVE_RELEASED,
    ("othertransaction", "payabletoamazon"): CARD_CHARGES,
    ("othertransaction", "successfulcharge"): CARD_CHARGES,
    ("othertransaction", "failedcharge"): CARD_CHARGES,
}

# Amount types whose every description belongs to one category.
_AMOUNT_TYPES: dict[str, Category] = {
    "costofadvertising": ADVERTISING,
    "fbainventoryreimbursement": REIMBURSEMENTS,
}

# Transaction types that are one fee or payment whatever their amount lines say.
_TRANSACTIONS: dict[str, Category] = {
    "lightningdealfee": FEES_DEALS,
    "couponredemptionfee": FEES_DEALS,
    "vineenrollmentfee": FEES_DEALS,
    "dealfee": FEES_DEALS,
    "couponpaymentevent": FEES_DEALS,
    "safetreimbursement": REIMBURSEMENTS_OTHER,
    "liquidations": LIQUIDATIONS,
    "liquidationsadjustments": LIQUIDATIONS,
}


@lru_cache(maxsize=4096)
def settlement_category(
    transaction_type: str, amount_type: str, amount_description: str
) -> Category:
    """The category of one settlement row; an unknown combination is its own unmapped one."""
    ttype, atype, desc = norm(transaction_type), norm(amount_type), norm(amount_description)
    if atype == "itemprice" and desc in _ITEM_PRICE:
        sale, refund = _ITEM_PRICE[desc]
        return refund if ttype in REFUND_TRANSACTIONS else sale
    found = _PAIRS.get((atype, desc))
    if found is not None:
        return found
    if atype == "promotion" and desc:
        return PROMOTIONS_OTHER
    found = _AMOUNT_TYPES.get(atype) or _TRANSACTIONS.get(ttype)
    if found is not None:
        return found
    return unmapped_category("seller", transaction_type, amount_type, amount_description)


def seller_category(key: str) -> Category | None:
    """A known category by its key (unmapped ones are not listed here)."""
    return BY_KEY.get(key)
