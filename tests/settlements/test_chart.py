"""The chart of sales, refunds, fees, other and net payout per settlement: the figures from
the stored settlement amounts (made by the upload path), and what the link page shows."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse

from mappings.categories_seller import settlement_category
from settlements.chart import (
    BUCKETS,
    axis_range,
    bucket_of,
    chart_layout,
    settlement_chart,
)
from settlements.models import Settlement
from settlements.templatetags.settlements import chart_count, money
from tests.conftest import client_for
from tests.settlements.flow import upload
from tests.settlements.support import DE, UK, account_row, settlements_of, with_rows
from tests.settlements.test_views import plain_link

D = Decimal


def _order_row(base, transaction_type: str, amount_type: str, description: str, amount: str):
    row = account_row(
        base.start + timedelta(days=2),
        amount,
        description,
        transaction_type=transaction_type,
        amount_type=amount_type,
    )
    row.order_id = "202-1234567-1234567"
    row.marketplace_name = "Amazon.co.uk"
    row.sku = "SKU-1"
    return row


def test_each_row_goes_to_one_bucket_by_its_category_group() -> None:
    cases = {
        ("Order", "ItemPrice", "Principal"): "sales",
        ("Order", "ItemPrice", "Shipping"): "sales",
        ("Order", "Promotion", "Principal"): "sales",  # discounts net into sales
        ("Liquidations", "", ""): "sales",
        ("Refund", "ItemPrice", "Principal"): "refunds",
        ("Refund", "ItemPrice", "Goodwill"): "refunds",
        ("Refund", "ItemFees", "Commission"): "fees",  # Amazon gives the fee back
        ("other-transaction", "other-transaction", "Storage Fee"): "fees",
        ("other-transaction", "Cost of Advertising", "TransactionTotalAmount"): "fees",
        ("Order", "ItemPrice", "Tax"): "other",
        ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"): "other",
        ("other-transaction", "other-transaction", "Current Reserve Amount"): "other",
        ("other-transaction", "other-transaction", "Successful charge"): "other",
        ("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE"): "other",
        ("other-transaction", "other-transaction", "NewFeeType2026"): "other",  # unknown
    }
    for (ttype, atype, desc), bucket in cases.items():
        assert bucket_of(ttype, atype, desc) == bucket, (ttype, atype, desc)
    # "Other" is exactly what is neither sales, refunds nor fees in the registry's words.
    assert settlement_category("Order", "ItemPrice", "Tax").group == "Taxes"


def test_the_buckets_of_a_settlement_are_exact_and_add_up_to_the_deposit(customer) -> None:
    link = plain_link(customer)
    base = settlements_of(UK)[0]
    rows = [
        _order_row(base, "Order", "ItemPrice", "Principal", "100.00"),
        _order_row(base, "Order", "ItemPrice", "Shipping", "5.00"),
        _order_row(base, "Order", "ItemPrice", "Tax", "21.00"),
        _order_row(base, "Order", "Promotion", "Principal", "-3.00"),
        _order_row(base, "Order", "ItemFees", "Commission", "-15.00"),
        _order_row(base, "Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-2.41"),
        _order_row(base, "Refund", "ItemPrice", "Principal", "-20.00"),
        _order_row(base, "Refund", "ItemFees", "Commission", "3.00"),
        _order_row(base, "Refund", "ItemFees", "RefundCommission", "-0.60"),
        account_row(base.start + timedelta(days=3), "-7.50", "Storage Fee"),
        account_row(base.start + timedelta(days=3), "-10.00", "Current Reserve Amount"),
        account_row(base.start + timedelta(days=3), "8.00", "Previous Reserve Amount Balance"),
        account_row(base.start + timedelta(days=3), "-1.11", "NewFeeType2026"),
    ]
    settlement = with_rows(base, rows)
    assert settlement.total_amount == D("77.38")
    upload(link, settlement)

    (chart,) = settlement_chart(link)
    assert chart.currency == "GBP" and not chart.more
    (figures,) = chart.settlements
    assert figures.settlement_id == base.settlement_id
    assert figures.sales == D("102.00")  # 100 + 5 shipping - 3 promotion
    assert figures.refunds == D("-20.00")
    assert figures.fees == D("-22.51")  # -15 - 2.41 + 3 given back - 0.60 - 7.50
    assert figures.other == D("17.89")  # 21 tax - 10 reserve + 8 released - 1.11 unknown
    assert figures.total == D("77.38")
    assert figures.sales + figures.refunds + figures.fees + figures.other == figures.total
    assert chart.sums() == {
        "sales": D("102.00"),
        "refunds": D("-20.00"),
        "fees": D("-22.51"),
        "other": D("17.89"),
        "total": D("77.38"),
    }


def test_one_chart_per_currency_in_order_latest_first_kept_and_every_settlement_adds_up(
    customer,
) -> None:
    link = plain_link(customer)
    uk, de = settlements_of(UK), settlements_of(DE)
    for settlement in [*uk, *de]:
        upload(link, settlement)
    ignored = Settlement.objects.get(link=link, settlement_id=de[0].settlement_id)
    Settlement.objects.filter(pk=ignored.pk).update(state=Settlement.State.IGNORED)

    charts = settlement_chart(link)
    assert [c.currency for c in charts] == ["EUR", "GBP"]
    eur, gbp = charts
    assert [f.settlement_id for f in gbp.settlements] == [
        s.settlement_id for s in sorted(uk, key=lambda s: s.end)
    ]
    assert [f.settlement_id for f in eur.settlements] == [
        s.settlement_id for s in sorted(de[1:], key=lambda s: s.end)
    ]  # a marketplace the link does not sync is left out
    amazon = {s.settlement_id: s for s in [*uk, *de]}
    for chart in charts:
        for f in chart.settlements:
            generated = amazon[f.settlement_id]
            by_bucket = dict.fromkeys(BUCKETS, D("0.00"))
            for row in generated.rows:
                group = settlement_category(
                    row.transaction_type, row.amount_type, row.amount_description
                ).group
                key = {"Sales": "sales", "Promotions": "sales", "Refunds": "refunds"}.get(
                    group, "fees" if group == "Fees" else "other"
                )
                by_bucket[key] += row.amount
            assert (f.sales, f.refunds, f.fees, f.other) == tuple(by_bucket[b] for b in BUCKETS)
            assert f.sales + f.refunds + f.fees + f.other == f.total == generated.total_amount
        assert any(f.sales > 0 for f in chart.settlements)
        assert all(f.fees < 0 for f in chart.settlements)

    latest = settlement_chart(link, count=2)
    gbp_latest = next(c for c in latest if c.currency == "GBP")
    assert gbp_latest.more and len(gbp_latest.settlements) == 2
    assert gbp_latest.settlements == gbp.settlements[-2:]


def test_the_svg_layout_puts_bars_on_a_zero_line_within_the_picture(customer) -> None:
    link = plain_link(customer)
    for settlement in settlements_of(UK):
        upload(link, settlement)
    (chart,) = settlement_chart(link)
    layout = chart_layout(chart)
    n = len(chart.settlements)
    assert len(layout.bars) == 4 * n and len(layout.points) == n == len(layout.labels)
    for bar in layout.bars:
        assert bar.y >= 0 and bar.y + bar.height <= layout.height
        assert layout.left <= bar.x and bar.x + bar.width <= layout.right
        # Every bar starts or ends on the zero line.
        assert layout.zero in (bar.y, round(bar.y + bar.height, 2))
    assert layout.ticks[0].label.startswith("\N{MINUS SIGN}")  # fees go below 0
    assert "Net payout" in layout.points[0].title
    assert axis_range([D("-123.45"), D("987.65")]) == (D("-250"), D("1000"), D("250"))
    assert axis_range([D("0.40")]) == (D("0"), D("0.1") * 4, D("0.1"))


def test_money_reads_like_money() -> None:
    assert money(D("1234.5"), "GBP") == "£1,234.50"
    assert money(D("-1234.5"), "EUR") == "\N{MINUS SIGN}€1,234.50"
    assert money(D("0"), "USD") == "$0.00"
    assert money(D("1234567.891"), "SEK") == "1,234,567.89 SEK"
    # ?chart=26 asks for more settlements per chart; anything else is the default 12.
    assert [chart_count(v) for v in ("26", "52", "7", "x", None)] == [26, 52, 12, 12, 12]


def test_the_link_page_shows_the_chart_with_its_table(customer, owner, member, outsider) -> None:
    link = plain_link(customer)
    url = reverse("link-detail", kwargs={"code": customer.code, "link_id": link.pk})
    empty = client_for(owner).get(url).content.decode()
    assert "No settlements yet: import or upload settlements" in empty
    settlements_url = reverse("settlements", kwargs={"code": customer.code, "link_id": link.pk})
    assert f'on the <a href="{settlements_url}">settlements page</a>' in empty
    import_url = reverse("settlements-import", kwargs={"code": customer.code, "link_id": link.pk})
    assert f'<a class="button" href="{import_url}">Import a date range</a>' in empty
    for settlement in settlements_of(UK):
        upload(link, settlement)
    (chart,) = settlement_chart(link)
    page = client_for(member).get(url).content.decode()
    assert 'id="settlement-chart"' in page
    assert '<svg viewBox="0 0 720 300" role="img"' in page
    assert page.count("<rect ") == 4 * len(chart.settlements)
    table = page[page.index('<table class="table chart-table">') :]
    table = table[: table.index("</table>")]
    for f in chart.settlements:
        row = re.search(rf"{f.settlement_id}</a>.*?</tr>", table, re.S)
        assert row, f.settlement_id
        cells = re.findall(r'<td class="num">(?:<strong>)?([^<]+)', row.group(0))
        assert cells == [money(v, "GBP") for v in (f.sales, f.refunds, f.fees, f.other, f.total)]
    sums = chart.sums()
    assert f"<strong>{money(sums['total'], 'GBP')}</strong>" in table  # the total row
    assert import_url not in page  # a member cannot import
    settlements_page = client_for(owner).get(
        reverse("settlements", kwargs={"code": customer.code, "link_id": link.pk})
    )
    assert f'{url}#settlement-chart"' in settlements_page.content.decode()
    assert client_for(outsider).get(url).status_code == 404
    # More settlements per chart on request; the choice is a link, marked as the current one.
    wider = client_for(member).get(url, {"chart": "26"}).content.decode()
    assert 'href="?chart=26#settlement-chart" aria-current="true">26</a>' in wider
    assert 'href="?chart=12#settlement-chart">12</a>' in wider
    assert "the latest 26 in each currency" in wider
