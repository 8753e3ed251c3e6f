"""Deterministic, seeded sandbox data: a Seller Central account and an Amazon Business buyer.

Pure Python (stdlib + Decimal); no Django, no clock, no I/O. See `seller.py` and `business.py`.
"""
