"""The mapping and review pages: tenancy, owners change / members read, what a user sees."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from connectors.models import Link
from connectors.wizard import wizard_steps
from hub.models import Customer
from mappings import services
from mappings.categories import unmapped_category
from mappings.models import CategoryMapping, MappingSettings
from mappings.resolve import Target
from mappings.services import MappingInput
from sandbox.xero.models import Account, Organisation
from tests.conftest import client_for
from tests.mappings.support import UK, business_link, seller_link

ADS = "seller:fees:advertising"
SALES = "seller:sales:principal"


@pytest.fixture
def link(sandbox_url: str, owner: User, member: User) -> Link:
    return seller_link(sandbox_url.removesuffix("/sandbox"), UK, owner=owner, member=member)


def urls(link: Link) -> list[tuple[str, str]]:
    base = f"/w/{link.customer.code}/links/{link.pk}"
    return [
        ("get", f"{base}/mapping/"),
        ("get", f"{base}/mapping/?suggest=1"),
        ("post", f"{base}/mapping/"),
        ("post", f"{base}/mapping/refresh/"),
        ("post", f"{base}/mapping/create-accounts/"),
        ("get", f"{base}/mapping/export/"),
        ("post", f"{base}/mapping/import/"),
        ("get", f"{base}/review/"),
        ("post", f"{base}/review/"),
    ]


def form_data(response: Any, **changes: str) -> dict[str, str]:
    form = response.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(changes)
    return data


def test_an_outsider_gets_404_on_every_mapping_url(link: Link, outsider: User) -> None:
    client = client_for(outsider)
    for method, url in urls(link):
        assert getattr(client, method)(url).status_code == 404, (method, url)
    # Nor through her own workspace's code with this link's id.
    own = Customer.objects.get(memberships__user=outsider)
    for method, url in urls(link):
        mixed = url.replace(str(link.customer.code), str(own.code))
        assert getattr(client, method)(mixed).status_code == 404, (method, mixed)
    assert not CategoryMapping.objects.exists() and not MappingSettings.objects.exists()


def test_a_member_reads_but_cannot_change(link: Link, member: User) -> None:
    client = client_for(member)
    page = client.get(f"/w/{link.customer.code}/links/{link.pk}/mapping/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "only an owner of this workspace can change it" in html
    assert "Save mapping" not in html and "Create recommended" not in html
    assert 'name="acc__seller:sales:principal"' in html and "disabled" in html
    assert client.get(f"/w/{link.customer.code}/links/{link.pk}/review/").status_code == 200
    assert client.get(f"/w/{link.customer.code}/links/{link.pk}/mapping/export/").status_code == 200
    for method, url in urls(link):
        if method == "post":
            assert client.post(url).status_code == 404, url
    assert not CategoryMapping.objects.exists()


def test_the_owner_suggests_checks_and_saves(link: Link, owner: User) -> None:
    client = client_for(owner)
    url = f"/w/{link.customer.code}/links/{link.pk}/mapping/"
    page = client.get(url)
    html = page.content.decode()
    assert "0 of 32 categories mapped" in html
    assert '<option value="200">200 Sales</option>' in html
    assert "Choose the suspense account for unknown Amazon categories." in html

    suggested = client.get(f"{url}?suggest=1")
    assert suggested.context["form"]["acc__" + SALES].value() == "200"
    assert suggested.context["form"]["tax__" + SALES].value() == "OUTPUT2"
    assert ">suggested<" in suggested.content.decode()
    assert not CategoryMapping.objects.exists()  # suggesting saves nothing

    # A tax rate Xero does not allow on the account: refused with the reason, nothing saved.
    bad = form_data(suggested, **{"tax__" + ADS: "OUTPUT2", "set__clearing_account": "620"})
    refused = client.post(url, bad)
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "Nothing was saved: 2 problems to fix first" in text
    assert (
        "Tax rate &#x27;20% (VAT on Income)&#x27; cannot be used on account 400 "
        "&#x27;Advertising &amp; Marketing&#x27;, which is an expense account"
    ) in text
    assert "Account 620 &#x27;Prepayments&#x27; does not accept payments" in text
    assert not CategoryMapping.objects.exists()

    saved = client.post(url, form_data(suggested))
    assert saved.status_code == 302 and saved["Location"] == url
    mapping = services.mapping_set_for(link)
    assert mapping.target(SALES) == Target("200", "OUTPUT2")
    assert mapping.clearing_account == "615" and mapping.suspense_account == "850"
    assert mapping.marketplace_tracking["A1F83G8C2ARO7P"] == ("Sales Channel", "Amazon UK")
    after = client.get(url).content.decode()
    assert "Mapping saved." in after and "32 of 32 categories mapped" in after


def test_an_account_archived_in_xero_shows_remap_needed_beside_it(link: Link, owner: User) -> None:
    services.mapping_save(link, MappingInput(targets={ADS: Target("400", "INPUT2")}))
    Account.objects.filter(org=Organisation.objects.get(name=UK), code="400").update(
        status="ARCHIVED"
    )
    client = client_for(owner)
    base = f"/w/{link.customer.code}/links/{link.pk}"
    refreshed = client.post(f"{base}/mapping/refresh/")
    assert refreshed.status_code == 302
    html = client.get(f"{base}/mapping/").content.decode()
    assert "1 remap needed" in html
    assert "Account 400 &#x27;Advertising &amp; Marketing&#x27; was archived in Xero" in html
    assert '<option value="400" selected>400 Advertising &amp; Marketing, archived</option>' in html
    review = client.get(f"{base}/review/").content.decode()
    assert "Remap needed" in review and "was archived in Xero" in review
    finish = client.post(f"{base}/review/")
    assert finish.status_code == 400
    assert MappingSettings.objects.get(link=link).reviewed_at is None


def test_new_and_unknown_categories_are_at_the_top_with_map_this(link: Link, owner: User) -> None:
    services.category_seen(link, unmapped_category("seller", "Order", "ItemFees", "Carbon Fee"))
    from mappings.categories_seller import FEES_STORAGE

    services.category_seen(link, FEES_STORAGE)
    html = client_for(owner).get(f"/w/{link.customer.code}/links/{link.pk}/mapping/").content
    text = html.decode()
    top = text.index("New: map this")
    assert (
        top
        < text.index("Unknown: Order / ItemFees / Carbon Fee")
        < text.index("FBA storage fees")
        < text.index('id="settings-head"')
    )
    assert "unknown: map this" in text and ">map this<" in text
    assert "which we do not recognise: it posts to the suspense account (choose one)" in text


def test_export_and_import_a_template(link: Link, owner: User) -> None:
    services.mapping_save(
        link,
        MappingInput(targets={ADS: Target("400", "INPUT2")}, settings={"suspense_account": "850"}),
    )
    client = client_for(owner)
    base = f"/w/{link.customer.code}/links/{link.pk}/mapping"
    exported = client.get(f"{base}/export/")
    assert exported["Content-Disposition"].startswith('attachment; filename="mapping-northwind')
    template = json.loads(exported.content)
    assert template["categories"][ADS]["account_code"] == "400"

    template["categories"][ADS]["account_code"] = "401"
    upload = SimpleUploadedFile("m.json", json.dumps(template).encode(), "application/json")
    done = client.post(f"{base}/import/", {"template": upload}, follow=True)
    assert "Template imported" in done.content.decode()
    assert services.mapping_set_for(link).target(ADS) == Target("401", "INPUT2")

    for content, message in [
        (b"{not json", "Nothing was imported: the file is not valid JSON (Expecting property"),
        (b"\xff\xfe", "Nothing was imported: the file is not text (UTF-8 JSON)."),
        (json.dumps({"format": "x"}).encode(), "is not a Ledgerbridge mapping template"),
        (
            json.dumps({**template, "categories": {ADS: {"account_code": "999"}}}).encode(),
            "Account 999 is not in the Xero chart of accounts",
        ),
    ]:
        upload = SimpleUploadedFile("m.json", content, "application/json")
        page = client.post(f"{base}/import/", {"template": upload}, follow=True)
        assert message in page.content.decode().replace("&#x27;", "'"), message
    assert services.mapping_set_for(link).target(ADS) == Target("401", "INPUT2")


def test_review_shows_an_example_and_finishing_marks_the_wizard(link: Link, owner: User) -> None:
    client = client_for(owner)
    base = f"/w/{link.customer.code}/links/{link.pk}"
    services.mapping_save(link, services_input_from_suggestion(link))
    page = client.get(f"{base}/review/")
    html = page.content.decode()
    assert "representative example" in html
    assert "Example settlement (GBP 206.72)" in html and "200 Sales" in html
    assert "Everything is mapped and valid in Xero" in html
    example = page.context["example"]
    assert [(line.description, line.account, line.amount) for line in example.lines][:2] == [
        ("Product sales", "200 Sales", "250.00"),
        ("Shipping charged to buyers", "200 Sales", "12.50"),
    ]
    # The example's VAT is what Xero computes: no rounding line.
    assert not any("Rounding" in line.description for line in example.lines)
    steps = {s.key: s for s in wizard_steps(link.customer, "")}
    assert steps["mapping"].url == f"{base}/mapping/" and steps["mapping"].state == "done"
    assert steps["review"].state == "upcoming"
    finished = client.post(f"{base}/review/")
    assert finished.status_code == 302 and finished["Location"] == f"/w/{link.customer.code}/"
    assert MappingSettings.objects.get(link=link).reviewed_at is not None
    assert {s.key: s for s in wizard_steps(link.customer, "")}["review"].state == "done"
    # Reachable later from the connections page.
    connections = client.get(f"/w/{link.customer.code}/connections/").content.decode()
    assert f'href="{base}/mapping/"' in connections


def test_with_two_links_the_stepper_leads_to_the_link_still_to_map_or_review(
    link: Link, owner: User
) -> None:
    client = client_for(owner)
    business = business_link(link)
    first, second = (f"/w/{link.customer.code}/links/{lk.pk}" for lk in (link, business))
    steps = {s.key: s for s in wizard_steps(link.customer, "")}
    assert (steps["mapping"].url, steps["review"].url) == (f"{first}/mapping/", f"{first}/review/")

    services.mapping_save(link, services_input_from_suggestion(link))
    assert client.post(f"{first}/review/").status_code == 302
    steps = {s.key: s for s in wizard_steps(link.customer, "")}
    assert steps["mapping"].url == f"{second}/mapping/" and steps["mapping"].state == "upcoming"
    assert steps["review"].url == f"{second}/review/" and steps["review"].state == "upcoming"
    # Where Finish lands, the stepper points at the second link, never back at the first.
    html = client.get(f"/w/{link.customer.code}/").content.decode()
    assert f'href="{second}/mapping/"' in html and f'href="{second}/review/"' in html
    assert f'href="{first}/review/"' not in html


def services_input_from_suggestion(link: Link) -> MappingInput:
    suggestion = services.mapping_suggest(link)
    return MappingInput(
        targets=dict(suggestion.targets),
        settings={
            "clearing_account": suggestion.clearing_account,
            "reserve_account": "620",
            "suspense_account": suggestion.suspense_account,
            "rounding_account": suggestion.rounding_account,
        },
    )


def test_an_amazon_business_link_maps_payment_methods_and_a_new_card(
    link: Link, owner: User
) -> None:
    from tests.mappings.support import business_link

    purchases = business_link(link)
    services.payment_method_seen(purchases, "card:1111", "Visa ending 1111")
    services.payment_method_seen(purchases, "invoice", "Pay by Invoice")
    client = client_for(owner)
    url = f"/w/{link.customer.code}/links/{purchases.pk}/mapping/"
    suggested = client.get(f"{url}?suggest=1")
    html = suggested.content.decode()
    assert "Payment methods" in html and "Office supplies and stationery" in html
    assert "The clearing account" not in html  # a Seller Central setting
    assert (
        '<option value="bill" selected>A bill to Amazon Business (Pay by Invoice)</option>' in html
    )
    assert client.post(url, form_data(suggested)).status_code == 302
    mapping = services.mapping_set_for(purchases)
    assert mapping.payment_methods == {
        "card:1111": "092",
        "invoice": "bill",
        "invoice-payment": "090",
    }
    assert mapping.target("business:expense:office-supplies") == Target("461", "INPUT2")

    # A card first used later holds only its own purchases and asks to be mapped.
    services.payment_method_seen(purchases, "card:4242", "Visa ending 4242")
    page = client.get(url)
    text = page.content.decode()
    assert "Visa ending 4242" in text and ">map this<" in text
    assert "Visa ending 4242 has no account yet" in text
    saved = client.post(url, form_data(page, **{"pay__card:4242": "092"}))
    assert saved.status_code == 302
    assert services.mapping_set_for(purchases).payment_methods["card:4242"] == "092"

    review = client.get(f"/w/{link.customer.code}/links/{purchases.pk}/review/")
    example = review.context["example"]
    assert example.title == "Example purchase (GBP 95.47)" and example.origin == "representative"
    assert ("Bank account", "092 Business Credit Card") in example.heading
    assert [(line.account, line.amount) for line in example.lines] == [
        ("461 Printing & Stationery", "38.99"),
        ("463 IT Software and Consumables", "56.48"),
    ]
