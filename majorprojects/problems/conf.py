"""Problem-ledger settings: the defaults below, each overridable by the optional
`settings.PROBLEMS` dict (e.g. `PROBLEMS = {"first_reply_days": 5}`). Read at call time, so tests
override them with pytest-django's `settings` fixture. Documented in docs/problems.md."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # The lead unit's first reply is due this many days after assignment …
    "first_reply_days": 7,
    # … counted in statutory working days (core.workdays) when True, calendar days when False.
    "first_reply_workdays": False,
    # Flag a problem in handling that went a whole calendar month without a progress note.
    "monthly_progress": True,
    # The ladder (一通报两约谈): (notices needed, level name), level 1 first. An overdue problem
    # gets one notice per month it is overdue; its level is the highest whose threshold is met.
    "escalation_levels": [
        (1, "通报"),
        (2, "分管副职约谈"),
        (3, "主要负责人约谈"),
    ],
    # Mail: True/False forces it on/off; None sends only when EMAIL_HOST is set to a real server
    # (anything but Django's default "localhost").
    "email": None,
    "email_subject_prefix": "【问题台账】",
}


def get(name: str):
    overrides = getattr(settings, "PROBLEMS", None) or {}
    return overrides.get(name, DEFAULTS[name])


def level_name(level: int) -> str:
    if level <= 0:
        return "未督办"
    levels = get("escalation_levels")
    return levels[min(level, len(levels)) - 1][1]


def level_choices() -> list[tuple[int, str]]:
    return [(0, "未督办")] + [(i, name) for i, (_, name) in enumerate(get("escalation_levels"), start=1)]


def level_for_notices(count: int) -> int:
    """The ladder level reached after `count` notices (0 when no threshold is met)."""
    level = 0
    for i, (threshold, _) in enumerate(get("escalation_levels"), start=1):
        if count >= threshold:
            level = i
    return level


def email_enabled() -> bool:
    forced = get("email")
    if forced is not None:
        return bool(forced)
    return bool(getattr(settings, "EMAIL_HOST", "")) and settings.EMAIL_HOST != "localhost"
