"""scan_approvals: fills the ledgers of projects in 前期/签约 and counts the flags; running it twice
changes nothing."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from majorprojects.approvals.models import ApprovalItem, ItemStatus
from majorprojects.projects.models import Stage

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("scan_approvals", *args, stdout=out)
    return out.getvalue()


def test_scan_fills_missing_ledgers_and_is_idempotent(ledgers):
    zone = ledgers["zone"]  # 前期, 备案类, no ledger yet
    ledgers["b"].stage = Stage.RESERVED
    ledgers["b"].save()
    ApprovalItem.objects.filter(project=ledgers["a"], item_type__code="eia").update(
        status=ItemStatus.IN_PROGRESS, planned_date=date(2026, 11, 1)
    )
    first = run()
    assert "补齐台账项目 1 个、事项 8 项" in first
    assert "逾期未办结 1 项" in first
    assert ApprovalItem.objects.filter(project=zone).count() == 8
    assert "补齐台账项目 0 个、事项 0 项" in run()
    assert "逾期未办结 0 项" in run("--today", "2026-10-31")


def test_scan_rejects_a_bad_date(ledgers):
    with pytest.raises(CommandError):
        run("--today", "2026-13-01")
