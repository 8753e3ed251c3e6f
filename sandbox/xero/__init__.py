"""The sandbox's Xero: organisations and the Accounting API 2.0.

Where things are:
- ``models``: organisations and what they hold; ``seed``/``charts``: the four demo organisations.
- ``gateway``: auth and scopes, rate limits, faults and Idempotency-Key around every endpoint.
- ``api_views``/``attachments`` (mounted by ``api_urls``): the endpoints; ``batch``: Xero's
  summarizeErrors semantics; ``listing``/``where``: GET paging, filters and order.
- ``lines``, ``documents``, ``contacts``, ``payments``, ``banking``: Xero's rules and messages.
- ``render``/``wire``: Xero's JSON (``/Date()/`` dates, exact decimals).
- ``webhooks``: signed event deliveries and intent to receive; ``pages``: the read-only pages.
- ``testing``: a connected app and token for tests and benchmarks.

Known differences from the real service, chosen knowingly:
- Responses are always JSON (Xero answers XML when the Accept header does not ask for JSON).
- Wording is Xero's where it is published or quoted by integrators; the modules mark the
  messages whose wording is the sandbox's own ("unverified").
- The PARTNER-edition refusal of invoices and credit notes is a per-element validation error;
  Xero's exact response is not published.
- Webhook events are delivered synchronously when the call that caused them completes (Xero
  delivers asynchronously and retries for 24 h); failures are recorded, not retried.
- The concurrent-call 429 carries no Retry-After (Xero documents it for the minute and day
  limits only).
- Not implemented: quotes, purchase orders, overpayments/prepayments, batch payments, bank
  transfers, reports, history, DELETE /Accounts, XML.
"""
