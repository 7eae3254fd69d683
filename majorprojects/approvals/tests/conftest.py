"""Approvals fixtures: project a (临川区, owner_a) under 审批类, project b (青山县, governed by the
transport bureau) under 核准类, both in 前期 with their templates applied; "today" is fixed."""

from datetime import date

import pytest
from django.utils import timezone

from majorprojects.approvals.models import ApprovalItem, ApprovalItemType
from majorprojects.approvals.services import ledger_apply_templates
from majorprojects.projects.models import ApprovalRegime

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


@pytest.fixture
def ledgers(projects):
    a, b = projects["a"], projects["b"]
    a.approval_regime = ApprovalRegime.APPROVAL
    a.code = "2026-431902-48-01-000001"
    a.save()
    b.approval_regime = ApprovalRegime.VERIFICATION
    b.code = "2026-431921-48-01-000002"
    b.save()
    ledger_apply_templates(a)
    ledger_apply_templates(b)
    return projects


def item(project, code) -> ApprovalItem:
    return ApprovalItem.objects.select_related("item_type", "project").get(
        project=project, item_type__code=code
    )


def item_type(code) -> ApprovalItemType:
    return ApprovalItemType.objects.get(code=code)
