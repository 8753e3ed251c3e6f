from __future__ import annotations

from django.apps import AppConfig


class SandboxXeroIdentityConfig(AppConfig):
    name = "sandbox.xero_identity"
    label = "sandbox_xero_identity"
    verbose_name = "Sandbox: Xero identity"
