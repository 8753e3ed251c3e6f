from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from hub.models import Customer, Membership
from tests.conftest import client_for


def test_owner_and_member_see_their_workspace(customer: Customer, owner, member) -> None:
    url = reverse("workspace", kwargs={"code": customer.code})
    for user, role in ((owner, "owner"), (member, "member")):
        response = client_for(user).get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Acme Trading Ltd" in body
        assert f"You are {role} of this workspace." in body
        assert "olivia@example.com" in body and "marco@example.com" in body


def test_outsider_gets_404_and_learns_nothing(customer: Customer, outsider) -> None:
    response = client_for(outsider).get(reverse("workspace", kwargs={"code": customer.code}))
    assert response.status_code == 404
    assert "Acme" not in response.content.decode()


def test_unknown_workspace_is_the_same_404(outsider) -> None:
    response = client_for(outsider).get(reverse("workspace", kwargs={"code": uuid.uuid4()}))
    assert response.status_code == 404


def test_anonymous_is_sent_to_login(customer: Customer) -> None:
    url = reverse("workspace", kwargs={"code": customer.code})
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_app_home_routes_by_number_of_workspaces(customer: Customer, owner, db) -> None:
    client = client_for(owner)
    response = client.get(reverse("app-home"))
    assert response["Location"] == reverse("workspace", kwargs={"code": customer.code})

    second = Customer.objects.create(name="Acme EU GmbH")
    Membership.objects.create(customer=second, user=owner, role=Membership.Role.OWNER)
    page = client.get(reverse("app-home")).content.decode()
    assert "Acme Trading Ltd" in page and "Acme EU GmbH" in page


@pytest.mark.django_db
def test_new_user_creates_a_workspace_and_owns_it(django_user_model) -> None:
    user = django_user_model.objects.create_user("nina", "nina@example.com", "pw-nina-123")
    client = client_for(user)
    assert client.get(reverse("app-home"))["Location"] == reverse("workspace-new")

    empty = client.post(reverse("workspace-new"), {"name": "   "})
    assert empty.status_code == 200
    assert (
        "Give the workspace a name" in empty.content.decode()
        or "This field is required" in empty.content.decode()
    )
    assert not Customer.objects.exists()

    response = client.post(reverse("workspace-new"), {"name": "Nina's Books"})
    customer = Customer.objects.get(name="Nina's Books")
    assert response["Location"] == reverse("workspace", kwargs={"code": customer.code})
    assert customer.memberships.get().role == Membership.Role.OWNER
