"""Amazon Business authorisation: consent on the buyer store by an administrator.

Reference: shared/reference/amazon-api.md §9: ``/b2b/abws/oauth?state&redirect_uri&applicationId``
returns ``code`` and ``state``; the code is exchanged at Login with Amazon like the SP-API's.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings


def redirect_uri() -> str:
    return f"{settings.SITE_URL}/connect/business/callback"


def consent_url(*, state: str) -> str:
    query = {
        "state": state,
        "redirect_uri": redirect_uri(),
        "applicationId": settings.AMAZON_BUSINESS_APP_ID,
    }
    return f"{settings.AMAZON_BUSINESS_CONSENT_URL}/b2b/abws/oauth?{urlencode(query)}"
