"""Sandbox tests use the ``sandbox_url`` fixture from tests/conftest.py."""
