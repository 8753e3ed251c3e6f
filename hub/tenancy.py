"""The one way a view reaches a customer: through the signed-in user's membership.

Every view that shows or changes a customer's data starts with :func:`customer_for_request`.
Anyone without a membership gets the same 404 as for a workspace that does not exist, so an
outsider cannot even learn that it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import Http404, HttpRequest

from hub.models import Customer, Membership


@dataclass(frozen=True)
class Access:
    customer: Customer
    membership: Membership

    @property
    def is_owner(self) -> bool:
        return self.membership.role == Membership.Role.OWNER


def customer_for_request(
    request: HttpRequest, code: uuid.UUID | str, *, owner_only: bool = False
) -> Access:
    """The customer ``code`` as seen by the signed-in user, or Http404."""
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such workspace.")
    try:
        membership = Membership.objects.select_related("customer").get(
            customer__code=code, user=user
        )
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such workspace.") from exc
    if owner_only and membership.role != Membership.Role.OWNER:
        raise Http404("No such workspace.")
    return Access(customer=membership.customer, membership=membership)


def customers_for_user(user: User | AnonymousUser) -> list[Customer]:
    if not user.is_authenticated:
        return []
    return list(Customer.objects.filter(memberships__user=user).order_by("name", "id"))


def customer_create(*, name: str, owner: User) -> Customer:
    """Create a workspace with ``owner`` as its first owner."""
    with transaction.atomic():
        customer = Customer.objects.create(name=name.strip() or "My workspace")
        Membership.objects.create(customer=customer, user=owner, role=Membership.Role.OWNER)
    return customer
