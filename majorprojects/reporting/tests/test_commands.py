"""The dispatch commands: open_periods (idempotent), lock_period, and the single-machine
scheduler running open_periods once."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from majorprojects.audit.models import Event
from majorprojects.reporting import services
from majorprojects.reporting.models import Period, Report, Schedule, Status

TODAY = date(2026, 10, 5)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_open_periods_reports_what_it_did_and_is_idempotent(monthly, listed):
    # January–October 2026 for a and b (the construction list): 10 periods, 20 slots
    assert run("open_periods", "--today", "2026-10-05") == (
        "开启期次 10 个；新增报表 20 份；移除不再需要的空白报表 0 份。\n"
    )
    assert run("open_periods", "--today", "2026-10-05") == (
        "开启期次 0 个；新增报表 0 份；移除不再需要的空白报表 0 份。\n"
    )
    assert Period.objects.count() == 10 and Report.objects.count() == 20


def test_open_periods_defaults_to_today(monthly, listed, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 2, 3))
    assert run("open_periods").startswith("开启期次 2 个；新增报表 4 份")


def test_open_periods_refuses_a_bad_date(monthly):
    with pytest.raises(CommandError) as exc:
        run("open_periods", "--today", "2026-13-01")
    assert str(exc.value) == "--today 应为 YYYY-MM-DD 格式的日期。"
    assert not Period.objects.exists()


def test_lock_period(october, slot, users):
    services.report_save(
        actor=users["owner_a"], report=slot, data={"progress": "前期手续办理", "next_plan": "开工"}
    )
    services.report_submit(actor=users["owner_a"], report=slot)
    assert run("lock_period", str(october.pk), "--user", "admin") == (
        "2026年10月已锁定：锁定报表 1 份，未报送 1 份。\n"
    )
    slot.refresh_from_db()
    october.refresh_from_db()
    assert slot.status == Status.LOCKED and october.locked_by == users["admin"]
    assert Event.objects.filter(verb="period_lock", actor=users["admin"]).count() == 1
    with pytest.raises(CommandError) as exc:
        run("lock_period", str(october.pk), "--user", "admin")
    assert str(exc.value).startswith("2026年10月已于") and str(exc.value).endswith("锁定。")


@pytest.mark.parametrize(
    ("period", "user", "message"),
    [
        ("999999", "admin", "没有这个调度期次。"),
        (None, "linchuan", "没有这个市级管理员账号。"),  # a county account may not lock
        (None, "nobody", "没有这个市级管理员账号。"),
    ],
)
def test_lock_period_refusals(october, users, period, user, message):
    with pytest.raises(CommandError) as exc:
        run("lock_period", period or str(october.pk), "--user", user)
    assert str(exc.value) == message
    october.refresh_from_db()
    assert not october.is_locked


def test_lock_period_refuses_an_inactive_admin(october, users):
    users["admin"].is_active = False
    users["admin"].save()
    with pytest.raises(CommandError):
        run("lock_period", str(october.pk), "--user", "admin")


def test_scheduler_once_opens_periods(monthly, listed, settings):
    settings.SCHEDULED_COMMANDS = {"open_periods": 60}
    output = run("run_scheduler", "--once")
    assert "open_periods" in output
    assert "开启期次 10 个；新增报表 20 份" in output
    assert Period.objects.count() == 10
    # a second run (a restart, or cron calling --once again) is harmless
    assert "开启期次 0 个；新增报表 0 份" in run("run_scheduler", "--once")
    assert Report.objects.count() == 20


def test_scheduler_keeps_going_when_one_job_fails(monthly, listed, settings):
    settings.SCHEDULED_COMMANDS = {"no_such_job": 5, "open_periods": 60}
    output = run("run_scheduler", "--once")
    assert "no_such_job 运行失败：" in output
    assert "开启期次 10 个" in output


def test_default_schedules_are_installed_by_the_migration(db):
    names = set(Schedule.objects.values_list("name", "frequency"))
    assert names == {
        ("月调度（年度建设项目）", "monthly"),
        ("季调度（储备及前期项目）", "quarterly"),
        ("周调度（已开工未入统项目）", "weekly"),
    }
