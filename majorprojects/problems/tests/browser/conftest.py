"""The browser fixtures of the dispatch walks (`person`: one signed-in browser per user, on a
phone or a desktop viewport) reused for the problem-ledger walk."""

from majorprojects.reporting.tests.browser.conftest import person  # noqa: F401
