"""Writing event rows. Every service that changes state calls event_record once."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from django.db import models

from .models import Event

_local = threading.local()


def set_request_ip(ip: str | None) -> None:
    _local.ip = ip


def current_ip() -> str | None:
    return getattr(_local, "ip", None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def event_record(
    *,
    actor,
    verb: str,
    target: models.Model | None = None,
    project=None,
    details: dict | None = None,
    target_type: str | None = None,
    target_label: str | None = None,
) -> Event:
    return Event.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        target_type=target_type or (target._meta.model_name if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or str(target or ""))[:300],
        project=project,
        details=_jsonable(details or {}),
        ip=current_ip(),
    )


def diff(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict[str, list]:
    """{field: [old, new]} for the fields whose values changed (labels from verbose_name)."""
    changes = {}
    for name in fields:
        new = getattr(instance, name)
        old = before.get(name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
    return changes
