"""The sandbox's Xero: organisations and the Accounting API 2.0."""
