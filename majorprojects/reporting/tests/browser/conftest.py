"""Browser fixtures for the dispatch walks: several people at once, each in their own Chromium
context (own session cookie), on a phone or a desktop viewport, signed in through the real login
form. Same Chromium, flags and rules as the projects suite (dialogs accepted, console errors fail)."""

from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, expect

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 3,
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@dataclass
class Person:
    """One signed-in user's browser tab and the errors its pages raised."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0 when nothing overflows)."""
        width = self.page.evaluate("document.scrollingElement.scrollWidth")
        return max(0, width - self.page.viewport_size["width"])


@pytest.fixture
def person(browser, live_server, settings, password):
    """`person("owner_a", phone=True)` opens a fresh context and signs in through the login
    form. Dialogs are accepted (a person clicks OK); console and page errors fail the test."""
    settings.DEBUG = False
    opened: list[tuple] = []

    def open_as(username: str, *, phone: bool = False) -> Person:
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", **(PHONE if phone else DESKTOP)
        )
        context.set_default_timeout(15000)
        page = context.new_page()
        who = Person(page=page, base=live_server.url)
        page.on("pageerror", lambda exc: who.errors.append(f"{username}: {exc}"))
        page.on(
            "console",
            lambda msg: who.errors.append(f"{username}: {msg.text}") if msg.type == "error" else None,
        )
        page.on("dialog", lambda dialog: (who.dialogs.append(dialog.message), dialog.accept()))
        opened.append((context, who))
        who.go("/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
        return who

    yield open_as
    errors = [e for _, who in opened for e in who.errors]
    for context, _ in opened:
        context.close()
    assert not errors, f"browser errors: {errors}"
