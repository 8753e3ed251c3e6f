from __future__ import annotations

from django.apps import AppConfig


class SandboxBusinessConfig(AppConfig):
    name = "sandbox.business"
    label = "sandbox_business"
    verbose_name = "Sandbox: Amazon Business"
