"""Sales, refunds, fees and net payout per settlement over time: the link page's chart.

``settlement_chart(link)`` sums each settlement's ``SettlementAmount`` rows into four buckets
by the Seller Central category registry (``mappings.categories_seller``), so the chart says
the same thing the mapping page does:

- **sales**: the "Sales" group (product price, shipping and gift wrap charged, other sales
  income, liquidations) and the "Promotions" group (discounts given on those sales, as Amazon's
  own statement nets promotional rebates into sales);
- **refunds**: the "Refunds" group (price, shipping and gift wrap given back, goodwill);
- **fees**: the "Fees" group (referral, FBA, storage, advertising …; a fee Amazon refunds with a
  refund is a positive fee);
- **other**: everything else, so the buckets add up to the deposit: tax collected or withheld,
  reimbursements, reserves held and released, transfers to or from a card, and categories the
  registry does not know yet.

sales + refunds + fees + other = the settlement's total-amount (the net payout), to the cent:
the parser refuses a file whose rows do not add up to its total. One chart per currency, the
settlements in the order they ended; ``chart_layout`` turns one into the geometry of an inline
SVG (grouped bars, the net payout as a line), drawn server-side with a table of the same
figures beneath it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db.models import Sum

from connectors.models import Link
from mappings.categories_seller import settlement_category
from settlements.models import Settlement, SettlementAmount

ZERO = Decimal("0.00")
MINUS = "\N{MINUS SIGN}"  # read as "minus", unlike a hyphen
DEFAULT_COUNT = 12
COUNTS = (12, 26, 52)
BUCKETS = ("sales", "refunds", "fees", "other")
# Category group → bucket; any other group is "other".
GROUP_BUCKETS = {"Sales": "sales", "Promotions": "sales", "Refunds": "refunds", "Fees": "fees"}


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str  # Okabe-Ito palette: told apart with the common colour-vision deficiencies


SERIES = (
    Series("sales", "Sales", "#0072b2"),
    Series("refunds", "Refunds", "#e69f00"),
    Series("fees", "Fees", "#d55e00"),
    Series("other", "Other", "#8a8a8a"),
)
PAYOUT = Series("total", "Net payout", "#1d2433")


@dataclass(frozen=True)
class SettlementFigures:
    """One settlement's amounts by bucket; ``total`` is what Amazon deposited."""

    pk: int
    settlement_id: str
    marketplace: str
    start: datetime
    end: datetime
    deposit_date: datetime | None
    state: str
    sales: Decimal
    refunds: Decimal
    fees: Decimal
    other: Decimal
    total: Decimal

    @property
    def waiting(self) -> bool:
        return self.state == Settlement.State.WAITING

    def value(self, key: str) -> Decimal:
        amount: Decimal = getattr(self, key)
        return amount


@dataclass(frozen=True)
class CurrencyChart:
    currency: str
    settlements: list[SettlementFigures]  # oldest end first
    more: bool  # the link has older settlements in this currency than shown

    def sums(self) -> dict[str, Decimal]:
        keys = (*BUCKETS, "total")
        return {k: sum((s.value(k) for s in self.settlements), ZERO) for k in keys}

    @property
    def first_end(self) -> datetime | None:
        return self.settlements[0].end if self.settlements else None

    @property
    def last_end(self) -> datetime | None:
        return self.settlements[-1].end if self.settlements else None

    @property
    def marketplaces(self) -> list[str]:
        return sorted({s.marketplace for s in self.settlements if s.marketplace})


def bucket_of(transaction_type: str, amount_type: str, amount_description: str) -> str:
    """Which bucket a settlement row's category belongs to."""
    category = settlement_category(transaction_type, amount_type, amount_description)
    return GROUP_BUCKETS.get(category.group, "other")


def settlement_chart(link: Link, *, count: int = DEFAULT_COUNT) -> list[CurrencyChart]:
    """The link's latest ``count`` settlements per currency, summed by bucket.

    Settlements of marketplaces the link does not sync (not posted) are left out.
    """
    shown = Settlement.objects.filter(link=link).exclude(state=Settlement.State.IGNORED)
    currencies = sorted(set(shown.values_list("currency", flat=True)))
    picked: dict[str, list[Settlement]] = {}
    more: dict[str, bool] = {}
    for currency in currencies:
        latest = list(shown.filter(currency=currency).order_by("-end", "-id")[: count + 1])
        more[currency] = len(latest) > count
        picked[currency] = latest[:count][::-1]
    sums = _bucket_sums([s.pk for rows in picked.values() for s in rows])
    return [
        CurrencyChart(
            currency=currency,
            settlements=[_figures(s, sums.get(s.pk, {})) for s in picked[currency]],
            more=more[currency],
        )
        for currency in currencies
    ]


def _bucket_sums(settlement_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    rows = (
        SettlementAmount.objects.filter(settlement_id__in=settlement_ids)
        .values("settlement_id", "transaction_type", "amount_type", "amount_description")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    sums: dict[int, dict[str, Decimal]] = {}
    for row in rows:
        bucket = bucket_of(row["transaction_type"], row["amount_type"], row["amount_description"])
        into = sums.setdefault(row["settlement_id"], {})
        into[bucket] = into.get(bucket, ZERO) + row["amount"]
    return sums


def _figures(settlement: Settlement, sums: dict[str, Decimal]) -> SettlementFigures:
    return SettlementFigures(
        pk=settlement.pk,
        settlement_id=settlement.settlement_id,
        marketplace=settlement.marketplace,
        start=settlement.start,
        end=settlement.end,
        deposit_date=settlement.deposit_date,
        state=settlement.state,
        sales=sums.get("sales", ZERO),
        refunds=sums.get("refunds", ZERO),
        fees=sums.get("fees", ZERO),
        other=sums.get("other", ZERO),
        total=settlement.total_amount,
    )


# --------------------------------------------------------------------------- SVG geometry

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 16, 40
MAX_BAR = 28  # a few settlements still read as bars, not blocks


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass
class Layout:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    zero: float = 0.0
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    line: str = ""  # the net payout polyline's points
    points: list[Bar] = field(default_factory=list)  # its markers (x, y = centre)


def nice_step(span: Decimal, parts: int = 5) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) cutting ``span`` into about ``parts``."""
    if span <= 0:
        return Decimal(1)
    raw = span / parts
    power = Decimal(10) ** (raw.adjusted())
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        step = power * factor
        if step >= raw:
            return step
    return power * 10


def axis_range(values: list[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(low, high, step): round bounds that include zero and every value."""
    low, high = min([ZERO, *values]), max([ZERO, *values])
    step = nice_step(high - low)
    low = (low / step).to_integral_value(ROUND_FLOOR) * step
    high = (high / step).to_integral_value(ROUND_CEILING) * step
    if low == high:
        high = low + step
    return low, high, step


def _short(amount: Decimal) -> str:
    """An axis label: whole units with thousands separators (the table has the cents)."""
    whole = amount.to_integral_value()
    sign = MINUS if whole < 0 else ""
    return f"{sign}{abs(whole):,}"


def chart_layout(chart: CurrencyChart) -> Layout:
    """Where each bar, tick and label of one currency's chart goes (SVG user units)."""
    layout = Layout()
    figures = chart.settlements
    if not figures:
        return layout
    values = [f.value(s.key) for f in figures for s in (*SERIES, PAYOUT)]
    low, high, step = axis_range(values)
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    scale = (plot_bottom - plot_top) / float(high - low)

    def y_of(amount: Decimal) -> float:
        return round(plot_bottom - float(amount - low) * scale, 2)

    layout.zero = y_of(ZERO)
    tick = low
    while tick <= high:
        layout.ticks.append(Tick(y_of(tick), _short(tick)))
        tick += step
    group = (WIDTH - RIGHT - LEFT) / len(figures)
    bar = min(group * 0.8 / len(SERIES), MAX_BAR)
    points = []
    for i, f in enumerate(figures):
        start = LEFT + (i + 0.5) * group - bar * len(SERIES) / 2
        ended = f"{f.end.day} {f.end:%b %Y}"
        for j, series in enumerate(SERIES):
            amount = f.value(series.key)
            top, bottom = sorted((y_of(amount), layout.zero))
            layout.bars.append(
                Bar(
                    x=round(start + j * bar, 2),
                    y=top,
                    width=round(bar - 1, 2),
                    height=round(max(bottom - top, 0.0), 2),
                    colour=series.colour,
                    title=f"{series.label} {amount:,} {chart.currency}, settlement "
                    f"{f.settlement_id} ended {ended}",
                )
            )
        centre = round(LEFT + (i + 0.5) * group, 2)
        y = y_of(f.total)
        points.append(f"{centre},{y}")
        layout.points.append(
            Bar(
                x=centre,
                y=y,
                width=0,
                height=0,
                colour=PAYOUT.colour,
                title=f"Net payout {f.total:,} {chart.currency}, settlement {f.settlement_id}",
            )
        )
        layout.labels.append(Label(centre, f"{f.end.day} {f.end:%b}"))
    layout.line = " ".join(points)
    return layout
