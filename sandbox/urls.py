"""The sandbox's URL map, mirroring each real host under one prefix.

real host -> sandbox prefix (settings name):
- login.xero.com -> /sandbox/xero/login/ (XERO_LOGIN_URL)
- identity.xero.com -> /sandbox/xero/identity/ (XERO_IDENTITY_URL)
- api.xero.com: /connections and /api.xro/2.0/ -> /sandbox/xero/api/ (XERO_API_URL)
- api.amazon.com (Login with Amazon) -> /sandbox/amazon/lwa/ (AMAZON_LWA_URL)
- sellercentral.amazon.* -> /sandbox/amazon/sellercentral/ (AMAZON_SELLER_CENTRAL_URL)
- sellingpartnerapi-{na,eu,fe} -> /sandbox/amazon/sp/{na,eu,fe}/ (AMAZON_SP_API_URL_*)
- www.amazon.* buyer store -> /sandbox/business/store/ (AMAZON_BUSINESS_CONSENT_URL)
- *.business-api.amazon.com -> /sandbox/business/api/ (AMAZON_BUSINESS_API_URL)
"""

from __future__ import annotations

from django.urls import include, path

from sandbox import views
from sandbox.amazon import lwa

app_name = "sandbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("control", views.control, name="control"),
    path("xero/login/", include("sandbox.xero_identity.login_urls")),
    path("xero/identity/", include("sandbox.xero_identity.identity_urls")),
    path("xero/api/", include("sandbox.xero_identity.api_urls")),
    path("xero/api/", include("sandbox.xero.api_urls")),
    path("xero/", include("sandbox.xero.page_urls")),
    path("amazon/lwa/auth/o2/token", lwa.token_endpoint, name="lwa-token"),
    path("amazon/sellercentral/", include("sandbox.amazon.consent_urls")),
    path("amazon/sp/<str:region>/", include("sandbox.amazon.sp_urls")),
    path("business/store/", include("sandbox.business.consent_urls")),
    path("business/api/", include("sandbox.business.api_urls")),
]
