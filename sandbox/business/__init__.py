"""The sandbox's Amazon Business: buyer-store consent and the Reconciliation API."""
