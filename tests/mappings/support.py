"""Links to the sandbox's seeded Xero organisations, with the test personas as members."""

from __future__ import annotations

from django.contrib.auth.models import User

from connectors.models import AmazonBusinessAccount, Link
from hub.models import Membership
from sandbox.xero.models import Organisation
from tests.engine_support import hub_link, seed_xero

UK = "Northwind Goods Ltd"
US = "Redwood Supply Co."
AU = "Wattle Street Traders Pty Ltd"
MARKETPLACES = {
    UK: [
        {"id": "A1F83G8C2ARO7P", "name": "Amazon.co.uk", "country": "GB", "currency": "GBP"},
        {"id": "A1PA6795UKMFR9", "name": "Amazon.de", "country": "DE", "currency": "EUR"},
    ],
    US: [{"id": "ATVPDKIKX0DER", "name": "Amazon.com", "country": "US", "currency": "USD"}],
    AU: [{"id": "A39IBJ37TRP1C6", "name": "Amazon.com.au", "country": "AU", "currency": "AUD"}],
}


def seller_link(
    site: str,
    org_name: str,
    *,
    owner: User | None = None,
    member: User | None = None,
    seed: bool = True,
) -> Link:
    """A Seller Central link into a seeded organisation, its marketplaces chosen."""
    if seed:
        seed_xero(site)
    org = Organisation.objects.get(name=org_name)
    link = hub_link(org=org, customer_name=f"{org_name} workspace", site_url=site)
    seller = link.seller_account
    assert seller is not None
    seller.available_marketplaces = MARKETPLACES[org_name]
    seller.marketplace_ids = [m["id"] for m in MARKETPLACES[org_name]]
    seller.save()
    for user, role in ((owner, Membership.Role.OWNER), (member, Membership.Role.MEMBER)):
        if user is not None:
            Membership.objects.create(customer=link.customer, user=user, role=role)
    return link


def business_link(link: Link) -> Link:
    """An Amazon Business link into the same organisation as ``link``."""
    account = AmazonBusinessAccount.objects.create(
        customer=link.customer, name="Amazon Business", region="eu"
    )
    return Link.objects.create(
        customer=link.customer, xero_tenant=link.xero_tenant, business_account=account
    )
