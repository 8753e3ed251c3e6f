"""The sandbox's Xero identity: OAuth 2.0 / OpenID Connect, tokens and connections.

Endpoints (real host -> sandbox path):
- login.xero.com ``/identity/connect/authorize`` -> ``/sandbox/xero/login/identity/connect/
  authorize``: sign in as a sandbox Xero user (no password), tick organisations, Allow / Cancel
  (``consent.py``).
- identity.xero.com -> ``/sandbox/xero/identity/``: ``.well-known/openid-configuration`` and its
  ``/jwks``, ``connect/token``, ``connect/revocation``, ``connect/userinfo`` (``endpoints.py``).
- api.xero.com ``/connections`` (either casing) -> ``/sandbox/xero/api/connections``: GET with
  ``?authEventId=``, DELETE ``/{id}`` (``connections.py``).

The sandbox's own, not Xero's: ``/sandbox/xero/identity/connections/`` (a page of users, grants
and connections with a "Disconnect (as the user would in Xero)" button),
``POST control/disconnect`` and ``POST control/expire`` (JSON; see ``connections.py`` and
``control.py``), ``services.age_grant`` / ``register_redirect_uri`` / ``refresh_tokens_spent``
for tests, and ``testing.consent`` to click through the consent page over HTTP.

Time: tokens and codes run on real time (30-minute access tokens, 60-day refresh tokens,
30-minute grace, 5-minute codes), not on the sandbox's time scale; tests age them instead.

Known differences from Xero, on purpose or for want of documentation:
- /connections dates carry a ``Z`` (Xero's own have no offset, which fails the spec's
  ``date-time``); the seven fractional digits are kept.
- No client_credentials (Custom Connections), introspection or end-session endpoints.
- A refresh token presented again within its grace gets a brand-new token set (and a new refresh
  token) each time; each spent token keeps its own 30-minute grace.
- Access tokens of a revoked grant are refused at once (Xero's are self-contained JWTs; its
  removal of the connections has the same effect on the Accounting API).
"""
