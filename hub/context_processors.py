from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def hub(request: HttpRequest) -> dict[str, object]:
    return {"SANDBOX": settings.SANDBOX, "PRODUCT_NAME": "Ledgerbridge"}
