"""The settlements pages: list, upload (page and command), options, actions, audit CSV."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from connectors.models import AmazonSellerAccount, Link, XeroGrant, XeroTenant
from hub.models import Customer
from sandbox.amazon.models import Seller
from sandbox.amazon.models import Settlement as AmazonSettlement
from settlements.models import Settlement, SettlementFile, SettlementSettings
from sync.models import LedgerEntry
from tests.conftest import client_for
from tests.sandbox.amazon_support import EU_SELLER, seed
from tests.settlements.flow import (
    assert_settlement_in_xero,
    post_everything,
    seller_link,
    upload,
)
from tests.settlements.support import UK, render, settlements_of


def plain_link(customer: Customer) -> Link:
    """A Seller Central link without any provider behind it (pages only)."""
    grant = XeroGrant.objects.create(customer=customer, xero_userid=uuid.uuid4())
    tenant = XeroTenant.objects.create(
        customer=customer,
        grant=grant,
        tenant_id=uuid.uuid4(),
        connection_id=uuid.uuid4(),
        name="Northwind Goods Ltd",
    )
    seller = AmazonSellerAccount.objects.create(
        customer=customer, name="Acme Amazon EU", region="eu", selling_partner_id="A1ACME"
    )
    return Link.objects.create(customer=customer, xero_tenant=tenant, seller_account=seller)


def _urls(link: Link, settlement: Settlement | None = None) -> list[tuple[str, str]]:
    code = link.customer.code
    urls = [
        ("get", reverse("settlements", kwargs={"code": code, "link_id": link.pk})),
        ("get", reverse("settlements-upload", kwargs={"code": code, "link_id": link.pk})),
        ("post", reverse("settlements-upload", kwargs={"code": code, "link_id": link.pk})),
        ("post", reverse("settlements-options", kwargs={"code": code, "link_id": link.pk})),
        (
            "post",
            reverse(
                "settlements-action", kwargs={"code": code, "link_id": link.pk, "action": "fetch"}
            ),
        ),
        (
            "post",
            reverse(
                "settlements-action", kwargs={"code": code, "link_id": link.pk, "action": "check"}
            ),
        ),
    ]
    if settlement is not None:
        kwargs = {"code": code, "settlement_id": settlement.pk}
        urls.append(("get", reverse("settlement-audit", kwargs=kwargs)))
        urls.append(("post", reverse("settlement-repost", kwargs=kwargs)))
    return urls


def _upload_page(client, link: Link, *files: tuple[str, bytes]):
    url = reverse("settlements-upload", kwargs={"code": link.customer.code, "link_id": link.pk})
    return client.post(
        url,
        {"settlement_files": [SimpleUploadedFile(name, data) for name, data in files]},
        follow=True,
    )


def test_outsiders_get_404_on_every_settlements_page(customer, owner, outsider) -> None:
    link = plain_link(customer)
    _upload_page(client_for(owner), link, ("s.txt", render(settlements_of(UK)[0])))
    settlement = Settlement.objects.get(link=link)
    client = client_for(outsider)
    for method, url in _urls(link, settlement):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url)
    assert Settlement.objects.filter(link=link).count() == 1
    # Another workspace's link under the outsider's own workspace code is a 404 too.
    own = Customer.objects.get(memberships__user=outsider)
    url = reverse("settlements", kwargs={"code": own.code, "link_id": link.pk})
    assert client.get(url).status_code == 404


def test_members_read_but_only_owners_change(customer, owner, member) -> None:
    link = plain_link(customer)
    client = client_for(member)
    page = client.get(reverse("settlements", kwargs={"code": customer.code, "link_id": link.pk}))
    assert page.status_code == 200 and "Upload settlement files" not in page.content.decode()
    for method, url in _urls(link)[2:]:
        assert getattr(client, method)(url).status_code == 404, url
    owner_page = client_for(owner).get(
        reverse("settlements", kwargs={"code": customer.code, "link_id": link.pk})
    )
    assert "Upload settlement files" in owner_page.content.decode()


def test_uploading_on_the_page_lists_the_settlement_and_a_second_upload_changes_nothing(
    customer, owner
) -> None:
    link = plain_link(customer)
    settlements = settlements_of(UK)[:2]
    files = [(f"{s.settlement_id}.txt", render(s)) for s in settlements]
    response = _upload_page(client_for(owner), link, *files)
    text = response.content.decode()
    for s in settlements:
        assert f"settlement {s.settlement_id} (GBP {s.total_amount}" in text
        assert f'id="settlement-{s.settlement_id}"' in text
    again = _upload_page(client_for(owner), link, *files).content.decode()
    assert again.count("was already here: nothing new") == 2
    assert Settlement.objects.filter(link=link).count() == 2
    assert SettlementFile.objects.filter(link=link).count() == 2


def test_a_bad_file_on_the_page_says_what_is_wrong_and_keeps_nothing(customer, owner) -> None:
    link = plain_link(customer)
    data = render(settlements_of(UK)[0])
    good = ("good.txt", render(settlements_of(UK)[1]))
    response = _upload_page(client_for(owner), link, ("cut.txt", data[: len(data) // 3]), good)
    text = response.content.decode()
    assert "cut.txt: Line " in text and "the file looks cut short" in text
    assert "Nothing from it was posted." in text
    assert "good.txt: settlement" in text  # one bad file does not stop the others
    assert Settlement.objects.filter(link=link).count() == 1
    assert not SettlementFile.objects.filter(link=link, file_name="cut.txt").exists()
    assert not LedgerEntry.objects.filter(link=link).exists()


def test_options_are_saved_by_the_owner(customer, owner) -> None:
    link = plain_link(customer)
    url = reverse("settlements-options", kwargs={"code": customer.code, "link_id": link.pk})
    response = client_for(owner).post(
        url, {"split_month_end": "on", "sync_enabled": "on"}, follow=True
    )
    assert "Settlement options saved." in response.content.decode()
    options = SettlementSettings.objects.get(link=link)
    assert options.split_month_end and options.sync_enabled and not options.group_by_sku


def test_the_audit_csv_lists_every_row(customer, owner) -> None:
    link = plain_link(customer)
    settlement = settlements_of(UK)[0]
    _upload_page(client_for(owner), link, ("s.txt", render(settlement)))
    ours = Settlement.objects.get(link=link)
    response = client_for(owner).get(
        reverse("settlement-audit", kwargs={"code": customer.code, "settlement_id": ours.pk})
    )
    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert len(lines) == len(settlement.rows) + 1
    total = sum(Decimal(line.split(",")[10]) for line in lines[1:])
    assert total == settlement.total_amount


def test_history_beyond_90_days_uploaded_on_the_page_posts(sandbox_url: str, owner) -> None:
    """A settlement only Seller Central's "All statements" page still has, uploaded by hand."""
    link = seller_link(sandbox_url)
    seed(orders=120)
    seller = Seller.objects.get(selling_partner_id=EU_SELLER)
    oldest = (
        AmazonSettlement.objects.filter(seller=seller, processing_status="Closed")
        .order_by("end")
        .first()
    )
    download = requests.get(
        f"{sandbox_url}/amazon/sellercentral/payments/past-settlements/"
        f"{oldest.settlement_id}/download",
        params={"seller": EU_SELLER},
        timeout=10,
    )
    assert download.status_code == 200
    from hub.models import Membership

    Membership.objects.create(customer=link.customer, user=owner, role=Membership.Role.OWNER)
    response = _upload_page(
        client_for(owner), link, (f"{oldest.settlement_id}.txt", download.content)
    )
    assert f"settlement {oldest.settlement_id}" in response.content.decode()
    post_everything(link)
    settlement = Settlement.objects.get(link=link, settlement_id=oldest.settlement_id)
    assert settlement.total_amount == oldest.total_amount
    (invoice,) = assert_settlement_in_xero(link, settlement)
    page = (
        client_for(owner)
        .get(reverse("settlements", kwargs={"code": link.customer.code, "link_id": link.pk}))
        .content.decode()
    )
    assert "Posted and paid" in page and invoice.number in page


def test_the_command_uploads_files_and_builds(sandbox_url: str, tmp_path) -> None:
    link = seller_link(sandbox_url)
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_bytes(render(settlements_of(UK)[0]))
    bad.write_bytes(b"not\ta\tsettlement\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command(
            "settlements_upload",
            "--link",
            str(link.pk),
            str(good),
            str(bad),
            stdout=out,
            stderr=err,
        )
    assert "settlement" in out.getvalue() and "1 settlement(s) built" in out.getvalue()
    assert "bad.txt: Line 1: this is not an Amazon settlement report" in err.getvalue()
    assert LedgerEntry.objects.filter(link=link, kind="invoice").count() == 1
    post_everything(link)
    assert_settlement_in_xero(link, Settlement.objects.get(link=link))
    call_command("settlements_upload", "--link", str(link.pk), str(good), stdout=out, stderr=err)
    assert "was already here: nothing new" in out.getvalue()
    assert upload(link, settlements_of(UK)[0]).unchanged
