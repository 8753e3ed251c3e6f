"""Customers (workspaces) and who may use them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Customer(models.Model):
    """A workspace: everything the hub holds belongs to exactly one customer."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "user"], name="membership_once_per_user"),
        ]
        ordering = ["customer", "role", "id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.customer} ({self.role})"


class XeroLogin(models.Model):
    """Sign in with Xero: which Xero user a hub user is."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="xero_login")
    xero_userid = models.UUIDField(unique=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email or str(self.xero_userid)


class Notice(models.Model):
    """An email sent to a workspace's owners; the key keeps one event from mailing twice."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="notices")
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "key"], name="notice_once")]
