"""Amazon Business purchases as categories a bookkeeper recognises, as data.

A Reconciliation API ``transactionLineItem`` is an expense line. Its category comes from, in
order of precedence:

1. the GL code a requisitioner typed at checkout (``businessOrderInfo``, whatever the
   administrator named the field: "GL code", "GL Code", "gl_code", "GL account"…). Each GL code
   is its own category ``business:gl:<code>`` so a user maps the company's own codes directly;
2. the item's UNSPSC code: its family (first 4 digits), then its segment (first 2 digits);
3. words in the product title ("Desk Chair, Mesh" → furniture), matched case-insensitively and
   ignoring plurals and punctuation;
4. otherwise an *unmapped* category of its own (``unmapped_category``), keyed by the UNSPSC
   segment when there is one: it posts to the suspense account and raises an alert.

The other parts of a line (shipping, gift wrap, regulatory fee, discount, tax) are categories too
("line-item types"), and a purchase's payment method is keyed from the transaction's instrument
type and last four digits (``payment_method_key``): each card is mapped to its own Xero bank or
credit-card account, and Pay by Invoice to a bill.

Reference: Reconciliation_API.json (2021-01-08), ``Transaction`` and ``TransactionLineItem``;
UNSPSC segments and families from the UNSPSC code set (unspsc.org).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mappings.categories import Category, slug, unmapped_category

SOURCE = "business"
EXPENSES = "Expenses"
LINE_ITEM_TYPES = "Line-item types"
TAXES = "Taxes"
GL_CODES = "GL codes"


def _expense(key: str, label: str, hint: str) -> Category:
    return Category(
        key=f"business:expense:{key}",
        label=label,
        group=EXPENSES,
        source=SOURCE,
        kind="expense",
        hint=hint,
    )


OFFICE_SUPPLIES = _expense("office-supplies", "Office supplies and stationery", "office supplies")
IT_EQUIPMENT = _expense("it-equipment", "Computer and IT equipment", "computer equipment")
SOFTWARE = _expense("software", "Software and subscriptions", "software")
CLEANING = _expense("cleaning", "Cleaning and hygiene supplies", "cleaning")
FURNITURE = _expense("furniture", "Furniture and furnishings", "furniture")
KITCHEN = _expense("kitchen", "Kitchen and refreshments", "kitchen refreshments")
BOOKS = _expense("books", "Books and publications", "books subscriptions")
HEALTH_SAFETY = _expense("health-safety", "Health and safety supplies", "health safety")
ELECTRICAL = _expense("electrical", "Lighting, electrical and batteries", "electrical")
PACKAGING = _expense("packaging", "Packaging and shipping supplies", "packaging postage")
TOOLS = _expense("tools-maintenance", "Tools, repairs and maintenance", "repairs maintenance")
APPLIANCES = _expense("appliances", "Appliances and electronics", "office equipment")
PRINTING_AV = _expense("printing-av", "Printing, photo and audio-visual", "printing")
WORKWEAR = _expense("workwear", "Uniforms and workwear", "uniforms")
MATERIALS = _expense("materials", "Materials, chemicals and fuel", "materials")
VEHICLES = _expense("vehicles", "Vehicle parts and accessories", "motor vehicle")
LAB = _expense("lab-equipment", "Laboratory and testing equipment", "equipment")
CRAFTS = _expense("crafts-education", "Arts, crafts and educational supplies", "general")
SPORTS = _expense("sports", "Sports and recreation", "general")
SERVICES = _expense("services", "Professional and business services", "consulting")
POSTAGE = _expense("postage", "Postage and delivery services", "postage freight courier")
TRAVEL = _expense("travel", "Travel and entertainment", "travel")
TRAINING = _expense("training", "Training and education", "training")

SHIPPING = Category(
    "business:charge:shipping",
    "Shipping and delivery charges",
    LINE_ITEM_TYPES,
    SOURCE,
    "expense",
    "postage freight courier",
)
GIFT_WRAP = Category(
    "business:charge:gift-wrap", "Gift wrap", LINE_ITEM_TYPES, SOURCE, "expense", ""
)
REGULATORY_FEE = Category(
    "business:charge:regulatory-fee",
    "Regulatory fees (e.g. recycling)",
    LINE_ITEM_TYPES,
    SOURCE,
    "expense",
    "",
)
DISCOUNT = Category(
    "business:charge:discount",
    "Discounts",
    LINE_ITEM_TYPES,
    SOURCE,
    "expense",
    "",
)
GOODWILL = Category(
    "business:charge:goodwill-credit",
    "Goodwill credits (over-refunds)",
    LINE_ITEM_TYPES,
    SOURCE,
    "expense",
    "",
)
TAX = Category(
    "business:tax:purchase-tax",
    "Tax charged on purchases",
    TAXES,
    SOURCE,
    "tax",
    "purchase tax",
)

EXPENSE_CATEGORIES: list[Category] = [
    OFFICE_SUPPLIES,
    IT_EQUIPMENT,
    SOFTWARE,
    CLEANING,
    FURNITURE,
    KITCHEN,
    BOOKS,
    HEALTH_SAFETY,
    ELECTRICAL,
    PACKAGING,
    TOOLS,
    APPLIANCES,
    PRINTING_AV,
    WORKWEAR,
    MATERIALS,
    VEHICLES,
    LAB,
    CRAFTS,
    SPORTS,
    SERVICES,
    POSTAGE,
    TRAVEL,
    TRAINING,
]
CHARGE_CATEGORIES: list[Category] = [SHIPPING, GIFT_WRAP, REGULATORY_FEE, DISCOUNT, GOODWILL]
BUSINESS_CATEGORIES: list[Category] = [*EXPENSE_CATEGORIES, *CHARGE_CATEGORIES, TAX]
_BY_KEY = {c.key: c for c in BUSINESS_CATEGORIES}

# The money fields of a TransactionLineItem other than the principal, by category.
CHARGES: dict[str, Category] = {
    "shippingCharge": SHIPPING,
    "giftWrappingCharge": GIFT_WRAP,
    "regulatoryFee": REGULATORY_FEE,
    "discount": DISCOUNT,
    "tax": TAX,
}

# UNSPSC family (4 digits) first, then segment (2 digits).
UNSPSC_FAMILIES: dict[str, Category] = {
    "1411": OFFICE_SUPPLIES,  # paper products
    "2411": PACKAGING,  # containers and storage (boxes)
    "2412": PACKAGING,  # packaging materials
    "4320": IT_EQUIPMENT,  # components for IT
    "4321": IT_EQUIPMENT,  # computer equipment and accessories
    "4322": IT_EQUIPMENT,  # data voice or multimedia network equipment
    "4323": SOFTWARE,
    "4410": OFFICE_SUPPLIES,  # office machines and their supplies (toner)
    "4411": OFFICE_SUPPLIES,  # office and desk accessories
    "4412": OFFICE_SUPPLIES,  # office supplies
    "4812": KITCHEN,  # vending and food service equipment
    "5213": APPLIANCES,  # domestic appliances
    "5214": APPLIANCES,  # domestic appliances
    "5215": KITCHEN,  # domestic kitchenware and kitchen supplies
    "5313": CLEANING,  # toiletries and personal care (soap, hand sanitiser)
    "8111": SOFTWARE,  # computer services
    "8116": SOFTWARE,  # information technology service delivery
}
UNSPSC_SEGMENTS: dict[str, Category] = {
    "11": MATERIALS,
    "12": MATERIALS,
    "13": MATERIALS,
    "14": OFFICE_SUPPLIES,
    "15": MATERIALS,
    "20": TOOLS,
    "21": TOOLS,
    "22": TOOLS,
    "23": TOOLS,
    "24": PACKAGING,
    "25": VEHICLES,
    "26": ELECTRICAL,
    "27": TOOLS,
    "30": TOOLS,
    "31": TOOLS,
    "32": IT_EQUIPMENT,
    "39": ELECTRICAL,
    "40": TOOLS,
    "41": LAB,
    "42": HEALTH_SAFETY,
    "43": IT_EQUIPMENT,
    "44": OFFICE_SUPPLIES,
    "45": PRINTING_AV,
    "46": HEALTH_SAFETY,
    "47": CLEANING,
    "48": KITCHEN,
    "49": SPORTS,
    "50": KITCHEN,
    "51": HEALTH_SAFETY,
    "52": APPLIANCES,
    "53": WORKWEAR,
    "55": BOOKS,
    "56": FURNITURE,
    "60": CRAFTS,
    "72": TOOLS,
    "76": CLEANING,
    "78": POSTAGE,
    "80": SERVICES,
    "81": SERVICES,
    "82": SERVICES,
    "84": SERVICES,
    "86": TRAINING,
    "90": TRAVEL,
}
# Segment names, for the label of an unmapped segment ("Unknown: UNSPSC 54 Timepieces…").
UNSPSC_SEGMENT_NAMES: dict[str, str] = {
    "10": "Live plants and animals",
    "54": "Timepieces, jewellery and gemstones",
    "70": "Farming, fishing and forestry services",
    "71": "Mining and oil and gas services",
    "73": "Industrial production services",
    "77": "Environmental services",
    "83": "Public utilities",
    "85": "Healthcare services",
    "91": "Personal and domestic services",
    "92": "Defence and public order services",
    "93": "Politics and civic affairs services",
    "94": "Organisations and clubs",
    "95": "Land, buildings and structures",
}

# Title words, most specific first within a category; the longest phrase found wins.
TITLE_WORDS: list[tuple[Category, tuple[str, ...]]] = [
    (
        OFFICE_SUPPLIES,
        (
            "copy paper",
            "printer paper",
            "paper",
            "pen",
            "ballpoint",
            "pencil",
            "stapler",
            "staples",
            "notebook",
            "notepad",
            "sticky note",
            "post it",
            "envelope",
            "folder",
            "binder",
            "toner",
            "ink cartridge",
            "label",
            "highlighter",
            "marker",
            "clipboard",
            "scissors",
        ),
    ),
    (
        IT_EQUIPMENT,
        (
            "docking station",
            "usb",
            "mouse",
            "keyboard",
            "monitor",
            "laptop",
            "computer",
            "tablet",
            "hdmi",
            "router",
            "hard drive",
            "ssd",
            "webcam",
            "headset",
            "network switch",
            "charger",
        ),
    ),
    (SOFTWARE, ("software", "licence", "license", "antivirus", "subscription", "download")),
    (
        CLEANING,
        (
            "sanitizer",
            "sanitiser",
            "cleaner",
            "cleaning",
            "wipes",
            "detergent",
            "soap",
            "disinfectant",
            "bin bags",
            "trash bags",
            "paper towels",
            "toilet paper",
            "mop",
        ),
    ),
    (
        FURNITURE,
        ("desk chair", "office chair", "chair", "desk", "table", "shelf", "cabinet", "bookcase"),
    ),
    (KITCHEN, ("coffee", "tea", "bottled water", "water", "snack", "sugar", "milk", "cups")),
    (BOOKS, ("book", "handbook", "paperback", "hardcover", "manual", "magazine")),
    (
        HEALTH_SAFETY,
        ("first aid", "gloves", "face mask", "safety", "fire extinguisher", "hi vis", "ppe"),
    ),
    (ELECTRICAL, ("desk lamp", "lamp", "bulb", "battery", "batteries", "power strip", "led")),
    (
        PACKAGING,
        ("shipping boxes", "cardboard box", "box", "bubble wrap", "packing tape", "mailer"),
    ),
    (TOOLS, ("screwdriver", "drill", "hammer", "wrench", "spanner", "toolkit", "tool")),
]


# ---------------------------------------------------------------- lines


def business_category(key: str) -> Category | None:
    """A registry category by key (GL-code and unmapped categories are not in the registry)."""
    return _BY_KEY.get(key)


def gl_code(line: Mapping[str, Any]) -> str:
    """The GL code a requisitioner entered for this line, or ''.

    Administrators name the field themselves, so any ``businessOrderInfo`` key that spells
    "GL code", "GL account", "General ledger (code)" in any case or punctuation counts.
    """
    info = line.get("businessOrderInfo")
    if not isinstance(info, Mapping):
        return ""
    for name, value in info.items():
        squashed = re.sub(r"[^a-z]", "", str(name).lower())
        if squashed in _GL_FIELD_NAMES and str(value or "").strip():
            return str(value).strip()
    return ""


_GL_FIELD_NAMES = {
    "gl",
    "glcode",
    "glcodes",
    "glaccount",
    "glaccountcode",
    "glnumber",
    "glaccountnumber",
    "generalledger",
    "generalledgercode",
    "generalledgeraccount",
}


def gl_category(code: str) -> Category:
    return Category(
        key=f"business:gl:{slug(code)}",
        label=f"GL code {code.strip()}",
        group=GL_CODES,
        source=SOURCE,
        kind="expense",
        hint="gl",
    )


def unspsc_digits(line: Mapping[str, Any]) -> str:
    """The UNSPSC code as digits only ("43-21-16-02" → "43211602"); '' when absent or zero."""
    digits = re.sub(r"\D", "", str(line.get("unspsc") or ""))
    return "" if not digits.strip("0") else digits


def title_category(title: str) -> Category | None:
    """The category whose longest keyword appears in ``title`` (whole words, plurals folded)."""
    words = _words(title)
    if not words:
        return None
    text = f" {' '.join(words)} "
    best: tuple[int, int, Category] | None = None
    for order, (category, phrases) in enumerate(TITLE_WORDS):
        for phrase in phrases:
            wanted = f" {' '.join(_words(phrase))} "
            if wanted in text:
                score = (len(wanted), -order)
                if best is None or score > best[:2]:
                    best = (score[0], score[1], category)
    return best[2] if best else None


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and "))
    # Fold simple plurals so "Pens" matches "pen" and "Boxes" matches "box".
    folded = []
    for word in words:
        if len(word) > 4 and word.endswith("es") and word[:-2].endswith(("x", "sh", "ch", "ss")):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        folded.append(word)
    return folded


def business_line_category(line: Mapping[str, Any]) -> Category:
    """The expense category of one Reconciliation API ``transactionLineItem`` (its principal)."""
    code = gl_code(line)
    if code:
        return gl_category(code)
    unspsc = unspsc_digits(line)
    if len(unspsc) >= 4 and unspsc[:4] in UNSPSC_FAMILIES:
        return UNSPSC_FAMILIES[unspsc[:4]]
    if len(unspsc) >= 2 and unspsc[:2] in UNSPSC_SEGMENTS:
        return UNSPSC_SEGMENTS[unspsc[:2]]
    by_title = title_category(str(line.get("productTitle") or ""))
    if by_title is not None:
        return by_title
    if len(unspsc) >= 2:
        segment = unspsc[:2]
        name = UNSPSC_SEGMENT_NAMES.get(segment, "")
        return unmapped_category(SOURCE, f"UNSPSC segment {segment}" + (f" {name}" if name else ""))
    return unmapped_category(SOURCE, "no product code")


def business_charge_category(field_name: str) -> Category:
    """The category of a line's other money field (``shippingCharge``, ``tax``, …)."""
    if field_name in CHARGES:
        return CHARGES[field_name]
    return unmapped_category(SOURCE, "line charge", field_name)


# ---------------------------------------------------------------- payment methods

INVOICE = "invoice"
# Not a payment instrument: the bank account that pays Amazon Business's invoices (the payment
# of a Pay by Invoice bill once Amazon reports it paid).
INVOICE_PAYMENT = "invoice-payment"
_INVOICE_TYPES = {"paybyinvoice", "invoice", "pbi", "paybyinvoicepbi"}


def _instrument(transaction: Mapping[str, Any]) -> tuple[str, str]:
    """(squashed instrument type, last four digits) of a Reconciliation API transaction."""
    kind = re.sub(r"[^a-z]", "", str(transaction.get("paymentInstrumentType") or "").lower())
    last4 = re.sub(r"\D", "", str(transaction.get("paymentInstrumentLast4Digits") or ""))[-4:]
    return kind, last4


def payment_method_key(transaction: Mapping[str, Any]) -> str:
    """A stable key for how a purchase was paid.

    "invoice" for Pay by Invoice; "card:<last4>" for a card (each card is its own method, so a
    new card shows up as a new method to map); "other:<type>" for instruments without digits
    (e.g. a gift-card balance).
    """
    kind, last4 = _instrument(transaction)
    if kind in _INVOICE_TYPES or "invoice" in kind:
        return INVOICE
    if last4:
        return f"card:{last4}"
    return f"other:{kind or 'unknown'}"


def payment_method_label(transaction: Mapping[str, Any]) -> str:
    """What a bookkeeper reads: "Visa ending 4242", "Pay by Invoice", "Gift card"."""
    key = payment_method_key(transaction)
    raw = str(transaction.get("paymentInstrumentType") or "").strip()
    if key == INVOICE:
        return "Pay by Invoice"
    name = _humanise(raw)
    if key.startswith("card:"):
        return f"{name or 'Card'} ending {key.removeprefix('card:')}"
    return name or "Unknown payment method"


def payment_method_label_for_key(key: str) -> str:
    """A label from the key alone (when no transaction is at hand)."""
    if key == INVOICE:
        return "Pay by Invoice"
    if key == INVOICE_PAYMENT:
        return "Paying Amazon Business invoices"
    if key.startswith("card:"):
        return f"Card ending {key.removeprefix('card:')}"
    return _humanise(key.removeprefix("other:")) or key


_KNOWN_INSTRUMENTS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "americanexpress": "American Express",
    "amex": "American Express",
    "discover": "Discover",
    "dinersclub": "Diners Club",
    "jcb": "JCB",
    "giftcard": "Gift card",
    "giftcardbalance": "Gift card",
    "bankaccount": "Bank account",
    "rewards": "Rewards",
}


def _humanise(raw: str) -> str:
    """ "AmericanExpress" → "American Express", "GIFT_CARD" → "Gift card"."""
    squashed = re.sub(r"[^a-z]", "", raw.lower())
    if squashed in _KNOWN_INSTRUMENTS:
        return _KNOWN_INSTRUMENTS[squashed]
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", raw).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced else ""
