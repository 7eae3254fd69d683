"""E-mail for the problem ledger, sent after the transaction commits and only when mail is enabled
(conf.email_enabled). A failed send is logged and never undoes or fails the service."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction

from majorprojects.accounts.models import User

from . import conf
from .models import Problem

log = logging.getLogger(__name__)


def _addresses(*, units=(), users=()) -> list[str]:
    unit_ids = [u.pk for u in units if u is not None]
    emails = set()
    if unit_ids:
        emails.update(
            User.objects.filter(unit_id__in=unit_ids, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    emails.update(u.email for u in users if u is not None and u.is_active and u.email)
    return sorted(emails)


def _send(subject: str, body: str, recipients: list[str]) -> None:
    try:
        send_mail(conf.get("email_subject_prefix") + subject, body, None, recipients, fail_silently=False)
    except Exception:  # mail must never break the ledger
        log.exception("problem mail failed: %s", subject)


def notify(problem: Problem, subject: str, body: str, *, units=(), users=()) -> None:
    """Queue a mail to the users of `units` and to `users` (those with an address)."""
    if not conf.email_enabled():
        return
    recipients = _addresses(units=units, users=users)
    if not recipients:
        return
    text = f"{body}\n\n问题：{problem.title}\n项目：{problem.project}\n编号：{problem.pk}"
    transaction.on_commit(lambda: _send(subject, text, recipients))


def reporters(problem: Problem) -> dict:
    return {"units": [problem.raising_unit], "users": [problem.raised_by]}


def merged_reporters(problem: Problem) -> dict:
    """The reporters of the duplicates merged into `problem`."""
    items = list(problem.merged_items.select_related("raising_unit", "raised_by"))
    return {"units": [p.raising_unit for p in items], "users": [p.raised_by for p in items]}
