"""Browser fixtures for the warnings walk: the dispatch walks' `person` (one signed-in Chromium
context per user, dialogs accepted, console errors fail the test)."""

from majorprojects.reporting.tests.browser.conftest import person  # noqa: F401
