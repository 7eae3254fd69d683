"""Playwright driving Debian's chromium against pytest-django's live server. The one
session-wide `browser` fixture is in the root conftest.py (Playwright's sync API allows one per
thread); CHROMIUM and ARGS here are its launch settings."""

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def page(browser, live_server, settings):
    settings.DEBUG = False
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
        viewport={"width": 1366, "height": 900},
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())  # a person clicks OK on confirmations
    page.base = live_server.url
    yield page
    context.close()
    assert not errors, f"browser errors: {errors}"


def sign_in(page, username: str, password: str) -> None:
    page.goto(f"{page.base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{page.base}/")
