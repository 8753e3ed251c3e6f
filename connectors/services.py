"""What the connection wizard does, as plain functions the views call."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from connectors import http
from connectors.models import (
    AmazonBusinessAccount,
    AmazonSellerAccount,
    Link,
    Status,
    XeroGrant,
    XeroTenant,
)
from connectors.xero import auth as xero_auth
from connectors.xero import client as xero_client
from connectors.xero.auth import XeroIdentity
from hub.models import Customer, Membership, XeroLogin
from hub.tenancy import customer_create

log = logging.getLogger(__name__)


class ConnectError(Exception):
    """A problem the user can act on; the message says what to do."""


def _unique_username(base: str) -> str:
    candidate, n = base[:140], 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base[:130]}-{n}"
    return candidate


def xero_signin_complete(
    *,
    identity: XeroIdentity,
    token: dict[str, Any],
    current_user: User | None,
    customer: Customer | None,
) -> tuple[User, Customer, XeroGrant]:
    """Provision (or find) the user and workspace from the id_token and store the token set.

    A returning Xero user lands in their workspace; a new one gets a user and a workspace of
    their own, owned by them. ``customer`` is set when a signed-in owner (re)connects Xero to
    an existing workspace.
    """
    with transaction.atomic():
        login = (
            XeroLogin.objects.select_related("user")
            .filter(xero_userid=identity.xero_userid)
            .first()
        )
        if current_user is not None:
            user = current_user
            if login is None:
                XeroLogin.objects.create(
                    user=user, xero_userid=identity.xero_userid, email=identity.email
                )
            elif login.user_id != user.pk:
                raise ConnectError(
                    "That Xero login already belongs to another Ledgerbridge user. Log out and "
                    "sign in with Xero instead."
                )
        elif login is not None:
            user = login.user
        else:
            user = User.objects.create_user(
                username=_unique_username(identity.email or f"xero-{identity.xero_userid}"),
                email=identity.email,
                first_name=identity.given_name[:150],
                last_name=identity.family_name[:150],
            )
            user.set_unusable_password()
            user.save()
            XeroLogin.objects.create(
                user=user, xero_userid=identity.xero_userid, email=identity.email
            )
        if customer is None:
            customer = (
                Customer.objects.filter(
                    memberships__user=user, memberships__role=Membership.Role.OWNER
                )
                .order_by("created_at")
                .first()
            )
        if customer is None:
            name = (
                f"{identity.given_name}'s workspace".strip()
                if identity.given_name
                else "My workspace"
            )
            customer = customer_create(name=name, owner=user)
        grant, _ = XeroGrant.objects.get_or_create(
            customer=customer, xero_userid=identity.xero_userid, defaults={"email": identity.email}
        )
        grant.email = identity.email
        grant.auth_event_id = identity.auth_event_id
        xero_auth.grant_store_tokens(grant, token)
    return user, customer, grant


def xero_tenant_choose(*, customer: Customer, grant: XeroGrant, tenant_id: str) -> XeroTenant:
    """Take one organisation from the grant's connections into the workspace."""
    existing = XeroTenant.objects.filter(tenant_id=tenant_id).first()
    if existing is not None and existing.customer_id != customer.pk:
        raise ConnectError(
            "This Xero organisation is already connected to another Ledgerbridge workspace. "
            "Ask that workspace's owner to disconnect it first, or choose another organisation."
        )
    connections = {c.tenant_id: c for c in xero_client.connections_list(grant)}
    connection = connections.get(tenant_id)
    if connection is None:
        raise ConnectError(
            "Xero no longer lists that organisation for this connection. "
            "Connect Xero again and choose it on Xero's consent screen."
        )
    org = xero_client.organisation_get(grant, tenant_id)
    problem = xero_client.organisation_problem(org)
    if problem:
        raise ConnectError(problem)
    fields = {
        "grant": grant,
        "connection_id": connection.id,
        "name": org.get("Name") or connection.tenant_name,
        "country_code": org.get("CountryCode", ""),
        "base_currency": org.get("BaseCurrency", ""),
        "edition": org.get("Edition", ""),
        "org_class": org.get("Class", ""),
        "short_code": org.get("ShortCode", ""),
    }
    try:
        with transaction.atomic():
            tenant, _ = XeroTenant.objects.update_or_create(
                customer=customer, tenant_id=tenant_id, defaults=fields
            )
    except IntegrityError as exc:
        raise ConnectError(
            "This Xero organisation was just connected to another workspace."
        ) from exc
    if customer.name.endswith("'s workspace") or customer.name == "My workspace":
        customer.name = tenant.name
        customer.save(update_fields=["name"])
    return tenant


def xero_release_unchosen(*, customer: Customer, grant: XeroGrant) -> int:
    """Disconnect organisations the user authorised but did not choose, so none linger in Xero."""
    chosen = {str(t) for t in customer.xero_tenants.values_list("tenant_id", flat=True)}
    released = 0
    for connection in xero_client.connections_list(grant):
        if connection.tenant_id not in chosen:
            xero_client.connection_delete(grant, connection.id)
            released += 1
    return released


def seller_account_connect(
    *, customer: Customer, region: str, name: str, selling_partner_id: str, token: dict[str, Any]
) -> AmazonSellerAccount:
    existing = AmazonSellerAccount.objects.filter(
        selling_partner_id=selling_partner_id, region=region
    ).first()
    if existing is not None and existing.customer_id != customer.pk:
        raise ConnectError(
            "This Seller Central account is already connected to another Ledgerbridge workspace "
            "for this region. Disconnect it there first."
        )
    with transaction.atomic():
        account, _ = AmazonSellerAccount.objects.update_or_create(
            selling_partner_id=selling_partner_id,
            region=region,
            defaults={
                "customer": customer,
                "token": token,
                "status": Status.ACTIVE,
                "status_reason": "",
            },
        )
        if not account.name or existing is None:
            account.name = name
        from django.utils import timezone

        account.authorised_at = timezone.now()
        account.save()
    return account


def link_create(
    *, customer: Customer, tenant: XeroTenant, account: AmazonSellerAccount | AmazonBusinessAccount
) -> Link:
    if tenant.customer_id != customer.pk or account.customer_id != customer.pk:
        raise ConnectError("That organisation or account belongs to another workspace.")
    field = "seller_account" if isinstance(account, AmazonSellerAccount) else "business_account"
    current = Link.objects.filter(**{field: account}).first()
    if current is not None:
        if current.xero_tenant_id != tenant.pk:
            raise ConnectError(
                f"{account.name} already posts into {current.xero_tenant.name}. An Amazon "
                "account feeds one Xero organisation; disconnect that link first."
            )
        return current
    return Link.objects.create(customer=customer, xero_tenant=tenant, **{field: account})


def business_account_connect(
    *, customer: Customer, region: str, name: str, token: dict[str, Any]
) -> AmazonBusinessAccount:
    return AmazonBusinessAccount.objects.create(
        customer=customer, region=region, name=name, token=token
    )


def grant_disconnect(grant: XeroGrant) -> None:
    """Disconnect Xero: delete each chosen tenant's connection at Xero, then forget the tokens."""
    for tenant in grant.tenants.all():
        try:
            xero_client.connection_delete(grant, str(tenant.connection_id))
        except http.ProviderError as exc:
            # Already gone on Xero's side (or the token is dead): nothing left to delete there.
            log.info("xero disconnect: %s", exc.message)
    grant.delete()


def customer_uninstall(customer: Customer) -> None:
    """Revoke Xero, forget every token, stop every schedule, delete the workspace's data.

    What was posted to Xero stays in Xero.
    """
    for grant in customer.xero_grants.all():
        try:
            xero_auth.revoke(grant)
        except http.ProviderError as exc:
            log.info("xero revoke during uninstall: %s", exc.message)
    customer.delete()
