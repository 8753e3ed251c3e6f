"""Local stand-ins for Xero, Amazon SP-API and Amazon Business (demo and tests only)."""
