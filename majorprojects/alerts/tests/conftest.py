"""Fixtures of the alerts tests: the fake metric and a rule factory (tests/fakes.py)."""

from .fakes import fake, rule_factory  # noqa: F401
