"""The sandbox's Xero identity: OAuth 2.0 / OpenID Connect, tokens and connections."""
