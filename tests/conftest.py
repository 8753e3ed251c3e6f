"""Shared fixtures: the named personas every tenancy test uses."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from hub.models import Customer, Membership
from hub.tenancy import customer_create

User = get_user_model()


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("olivia", "olivia@example.com", "pw-olivia-123")


@pytest.fixture
def member(db: None) -> User:
    return User.objects.create_user("marco", "marco@example.com", "pw-marco-123")


@pytest.fixture
def outsider(db: None) -> User:
    """Has a workspace of her own, and must never see anyone else's."""
    user = User.objects.create_user("oscar", "oscar@example.com", "pw-oscar-123")
    customer_create(name="Oscar's Outlet", owner=user)
    return user


@pytest.fixture
def customer(owner: User, member: User) -> Customer:
    customer = customer_create(name="Acme Trading Ltd", owner=owner)
    Membership.objects.create(customer=customer, user=member, role=Membership.Role.MEMBER)
    return customer


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
