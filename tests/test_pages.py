from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse


def test_landing_says_what_the_hub_does_and_links_resolve(sandbox_url: str) -> None:
    client = Client()
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Amazon into Xero, to the cent." in body
    assert "Settlements that match the deposit" in body
    assert "lorem" not in body.lower()
    # No dead links: every local link on the page answers (login, status, stylesheet).
    links = set(re.findall(r'(?:href|action)="(/[^"]*)"', body))
    assert reverse("login") in links
    assert reverse("connect-xero") in links  # Sign up with Xero
    for link in links:
        assert client.get(link).status_code in (200, 302), link


@pytest.mark.django_db
def test_login_path_reaches_the_workspace(django_user_model) -> None:
    django_user_model.objects.create_user("lena", "lena@example.com", "pw-lena-123")
    client = Client()
    assert client.get(reverse("login")).status_code == 200

    bad = client.post(reverse("login"), {"username": "lena", "password": "wrong"})
    assert "did not match" in bad.content.decode()

    response = client.post(
        reverse("login"), {"username": "lena", "password": "pw-lena-123"}, follow=True
    )
    assert response.redirect_chain[0][0] == reverse("app-home")
    assert "Create a workspace" in response.content.decode()
