"""The OAuth 2.0 rules of Xero's identity server: authorization requests, PKCE, codes, clients.

Xero's identity server is IdentityServer (identity.xero.com); where Xero documents nothing the
sandbox follows IdentityServer and the RFCs, and says so:
- Errors that cannot go back to the app (unknown client, a redirect URI not registered exactly)
  are shown on an error page, never redirected (RFC 6749 §4.1.2.1).
- Codes are single use and live five minutes; a code is spent by the first token request that
  presents it, even one that then fails (IdentityServer removes the code before checking PKCE).
- PKCE (RFC 7636): ``plain`` and ``S256``; a verifier is 43-128 characters of [A-Za-z0-9-._~].
  Apps without a client secret (Xero's "Auth Code with PKCE" app type) must use it.

Reference: developer.xero.com/documentation/guides/oauth2/auth-flow and /pkce-flow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, QueryDict
from django.utils import timezone

from sandbox.xero_identity.models import AuthorizationCode, Grant, XeroApp, token_hash
from sandbox.xero_identity.scopes import refused_scopes

CODE_LIFETIME = timedelta(minutes=5)
PKCE_METHODS = ("plain", "S256")
_PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")

AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


class PageError(Exception):
    """An authorization error shown to the user: the app cannot be trusted with a redirect."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class RedirectError(Exception):
    """An authorization error sent back to the app's redirect URI, with the state.

    Only ``error`` and ``state`` go back; the description is for logs and tests.
    """

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.location = ""


@dataclass(frozen=True)
class AuthorizeRequest:
    app: XeroApp
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    params: dict[str, str]  # as received, to carry through the consent form

    def redirect(self, **result: str) -> str:
        """The redirect URI with ``result`` (code or error) and the state added to its query."""
        if self.state is not None:
            result["state"] = self.state
        return add_query(self.redirect_uri, result)


def add_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_authorize(data: QueryDict) -> AuthorizeRequest:
    """Validate an authorization request the way Xero does; raises PageError or RedirectError.

    The client and the exact redirect URI come first: until both are known good, nothing may
    be sent to the redirect URI.
    """
    params = {
        name: str(value) for name in AUTHORIZE_PARAMS if (value := data.get(name)) is not None
    }
    client_id = params.get("client_id", "")
    app = XeroApp.objects.filter(client_id=client_id).first() if client_id else None
    if app is None:
        raise PageError("unauthorized_client", "Unknown client or client not enabled")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or redirect_uri not in app.redirect_uris:
        raise PageError("invalid_request", "Invalid redirect_uri")

    try:
        return _parse_validated_client(app, redirect_uri, params)
    except RedirectError as exc:
        state = params.get("state")
        back = {"error": exc.error} | ({"state": state} if state is not None else {})
        exc.location = add_query(redirect_uri, back)
        raise


def _parse_validated_client(
    app: XeroApp, redirect_uri: str, params: dict[str, str]
) -> AuthorizeRequest:
    if params.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "Response type not supported")
    scopes = list(dict.fromkeys(params.get("scope", "").split()))
    if not scopes:
        raise RedirectError("invalid_request", "scope is missing")
    refused = refused_scopes(scopes, allowed=list(app.allowed_scopes), app_created=app.created_at)
    if refused:
        raise RedirectError("invalid_scope", f"Invalid scope for client: {' '.join(refused)}")

    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is None:
        if method is not None:
            raise RedirectError("invalid_request", "code_challenge is missing")
        if not app.client_secret:
            raise RedirectError("invalid_request", "code challenge required")
    else:
        method = method or "plain"  # RFC 7636 §4.3
        if method not in PKCE_METHODS:
            raise RedirectError("invalid_request", "Transform algorithm not supported")
        if not _PKCE_VALUE.fullmatch(challenge):
            raise RedirectError("invalid_request", "Invalid code_challenge")

    return AuthorizeRequest(
        app=app,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=params.get("state"),
        nonce=params.get("nonce") or None,
        code_challenge=challenge,
        code_challenge_method=method if challenge else None,
        params=params,
    )


def issue_code(request: AuthorizeRequest, grant: Grant, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    code = secrets.token_hex(32)
    AuthorizationCode.objects.create(
        grant=grant,
        code_hash=token_hash(code),
        redirect_uri=request.redirect_uri,
        nonce=request.nonce or "",
        code_challenge=request.code_challenge or "",
        code_challenge_method=request.code_challenge_method or "",
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    return code


def pkce_matches(*, verifier: str, challenge: str, method: str) -> bool:
    if not _PKCE_VALUE.fullmatch(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return secrets.compare_digest(computed, challenge)
    return secrets.compare_digest(verifier, challenge)


def authenticate_client(request: HttpRequest) -> XeroApp | None:
    """Client authentication at the token and revocation endpoints, or None (invalid_client).

    ``client_secret_basic`` (HTTP Basic, RFC 6749 §2.3.1 form-encoding) or
    ``client_secret_post`` (client_id and client_secret in the form body); an app without a
    secret (PKCE) identifies itself with client_id alone and must not send a secret.
    """
    form = request.POST
    client_id = form.get("client_id", "")
    secret = form.get("client_secret", "")
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        basic_id, sep, basic_secret = decoded.partition(":")
        if not sep or (client_id and client_id != unquote(basic_id)):
            return None
        client_id, secret = unquote(basic_id), unquote(basic_secret)
    if not client_id:
        return None
    app = XeroApp.objects.filter(client_id=client_id).first()
    if app is None:
        return None
    if app.client_secret:
        return app if secrets.compare_digest(secret, app.client_secret) else None
    return None if secret else app
