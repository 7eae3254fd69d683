"""The approvals walks use the dispatch suite's `person` fixture: each user in their own
Chromium context, signed in through the login form, console errors failing the test."""

from majorprojects.reporting.tests.browser.conftest import person  # noqa: F401
