"""Checks on a report, in the style of a statistics system. Pure reads: each rule returns Chinese
messages keyed by the field they concern, so the form, the grid, the Excel upload and the API
all show the same words in the same place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from majorprojects.core.templatetags.platform_tags import wan
from majorprojects.projects.models import Stage

from .models import Frequency, Report

CENT = Decimal("0.01")

PRE_START = {Stage.CONCEIVED, Stage.RESERVED, Stage.PREPARING, Stage.SIGNED}

# Fields a submitted report must have, by what the project is doing (SPEC C4 "required fields
# per stage"). "building" = started (before or in this report) and not yet completed.
REQUIRED = {
    "building": ("investment", "progress", "percent_complete", "next_plan"),
    "preparing": ("progress", "next_plan"),
    "finished": ("investment", "progress"),
    "weekly": ("progress", "stats_included"),
}
FIELD_LABELS = {
    "investment": "本期完成投资",
    "progress": "形象进度",
    "percent_complete": "工程完成比例",
    "next_plan": "下期计划",
    "stats_included": "是否入统",
    "stats_date": "入统日期",
    "started_on": "开工日期",
    "structure_done_on": "主体完工日期",
    "completed_on": "竣工日期",
    "operating_on": "投产日期",
    "note": "情况说明",
}


def _fmt(amount: Decimal) -> str:
    return f"{wan(amount)} 万元"


def _number(value: Decimal) -> str:
    """A multiple or a percentage without trailing zeros and never in exponent form
    (Decimal("40.00").normalize() alone prints "4E+1")."""
    return format(value.normalize(), "f")


def situation(report: Report) -> str:
    """Which set of required fields applies: weekly, building, preparing or finished."""
    if report.period.frequency == Frequency.WEEKLY:
        return "weekly"
    project = report.project
    if project.stage in (Stage.COMPLETED, Stage.OPERATING) and (
        not project.actual_completion_date or project.actual_completion_date < report.period.starts_on
    ):
        return "finished"
    if project.actual_start_date or report.started_on or project.stage == Stage.CONSTRUCTION:
        return "building"
    return "preparing"


_HISTORY_SQL = """
SELECT SUM(r.investment),
       SUM(CASE WHEN r.period_end < %(end)s THEN r.investment END),
       COUNT(CASE WHEN r.period_end < %(end)s AND r.investment > 0 THEN 1 END),
       SUM(CASE WHEN r.period_end < %(end)s AND r.period_end >= %(jan)s THEN r.investment END),
       COUNT(CASE WHEN r.period_end > %(end)s THEN 1 END),
       (SELECT p.percent_complete FROM {table} p
         WHERE p.project_id = %(project)s AND p.id <> %(id)s AND p.period_end < %(end)s
           AND p.percent_complete IS NOT NULL
         ORDER BY p.period_end DESC LIMIT 1)
  FROM {table} r
 WHERE r.project_id = %(project)s AND r.id <> %(id)s
"""


def _decimal(value) -> Decimal | None:
    """A sum as the database returns it (SQLite: float or int) as Decimal to the cent, the way
    Django converts a DecimalField's aggregate."""
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(value).quantize(CENT)
    return Decimal(value)


def history(report: Report) -> dict:
    """The project's other reports' money, for the totals and the jump rules, and the latest
    percent complete reported before this one (from any earlier report, with money or not).
    One statement (it runs on every save and submission, so it is written as SQL rather than
    composed by the ORM on each call); services compute it once per request and pass it on."""
    sql = _HISTORY_SQL.format(table=connection.ops.quote_name(Report._meta.db_table))
    end = report.period_end
    params = {"end": end, "jan": date(end.year, 1, 1), "project": report.project_id, "id": report.pk or 0}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, before, months, year, later, last_percent = cursor.fetchone()
    return {
        "before": _decimal(before) or Decimal(0),
        "months_before": months or 0,
        "year_before": _decimal(year) or Decimal(0),
        "all_others": _decimal(total) or Decimal(0),
        "later": later or 0,
        "last_percent": _decimal(last_percent),
    }


def check_values(report: Report, *, today: date | None = None, past: dict | None = None) -> dict[str, str]:
    """Rules that hold for drafts too (a wrong figure is refused as soon as it is typed).
    `past` is history(report) when the caller has it already."""
    today = today or timezone.localdate()
    period, project = report.period, report.project
    schedule = period.schedule
    errors: dict[str, str] = {}
    amount = report.investment
    past = past if past is not None else history(report)

    if period.frequency == Frequency.WEEKLY:
        if amount is not None:
            errors["investment"] = "周调度不填报完成投资，请在月（季）调度中填报。"
        amount = None
    if amount is not None:
        if amount < 0:
            errors["investment"] = "本期完成投资不能为负数：累计完成投资不能倒退。"
        else:
            since_start = project.prior_investment + past["all_others"] + amount
            year_to_date = past["year_before"] + amount
            if year_to_date > project.total_investment:
                errors["investment"] = (
                    f"本年累计完成 {_fmt(year_to_date)}将超过项目总投资 {_fmt(project.total_investment)}，"
                    "请核实本期完成投资。"
                )
            elif since_start > project.total_investment:
                errors["investment"] = (
                    f"开工累计完成 {_fmt(since_start)}将超过项目总投资 {_fmt(project.total_investment)}，"
                    "请核实本期完成投资。"
                )
            elif not report.note.strip() and amount > 0:
                remaining = project.total_investment - project.prior_investment - past["before"]
                average = past["before"] / past["months_before"] if past["months_before"] else None
                if average and amount > average * schedule.jump_multiple:
                    errors["note"] = (
                        f"本期完成投资 {_fmt(amount)}超过该项目此前各期平均值（{_fmt(average.quantize(Decimal('0.01')))}）"
                        f"的 {_number(schedule.jump_multiple)} 倍，请在“情况说明”中说明原因。"
                    )
                elif (
                    remaining > 0 and amount > remaining * schedule.remaining_share and past["months_before"]
                ):
                    share = int(schedule.remaining_share * 100)
                    errors["note"] = (
                        f"本期完成投资 {_fmt(amount)}超过剩余未完成投资（{_fmt(remaining)}）的 {share}%，"
                        "请在“情况说明”中说明原因。"
                    )

    if (
        report.percent_complete is not None
        and past["last_percent"] is not None
        and report.percent_complete < past["last_percent"]
    ):
        errors["percent_complete"] = f"工程完成比例不能低于上期（{_number(past['last_percent'])}%）。"

    errors.update(_check_dates(report, today))
    return errors


def _check_dates(report: Report, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    project = report.project
    for name in ("started_on", "structure_done_on", "completed_on", "operating_on", "stats_date"):
        value = getattr(report, name)
        if value and value > today:
            errors[name] = f"{FIELD_LABELS[name]}不能晚于今天。"
    start = project.actual_start_date or report.started_on
    if report.started_on and project.actual_start_date and report.started_on != project.actual_start_date:
        errors["started_on"] = f"项目已于 {project.actual_start_date:%Y-%m-%d} 开工，无需再填开工日期。"
    for name in ("structure_done_on", "completed_on"):
        value = getattr(report, name)
        if value and name not in errors:
            if not start:
                errors[name] = f"填写{FIELD_LABELS[name]}前须先有开工日期。"
            elif value < start:
                errors[name] = f"{FIELD_LABELS[name]}不能早于开工日期（{start:%Y-%m-%d}）。"
    completed = project.actual_completion_date or report.completed_on
    if report.operating_on and "operating_on" not in errors:
        if not completed:
            errors["operating_on"] = "填写投产日期前须先有竣工日期。"
        elif report.operating_on < completed:
            errors["operating_on"] = f"投产日期不能早于竣工日期（{completed:%Y-%m-%d}）。"
    if (
        report.stats_included is False
        and project.stats_included
        and project.stats_included_date
        and project.stats_included_date <= report.period.ends_on
    ):
        when = f"于 {project.stats_included_date:%Y-%m-%d} " if project.stats_included_date else ""
        errors["stats_included"] = f"项目已{when}入统，不能改为未入统；确需撤销请联系市发改委。"
    if report.stats_included:
        if not report.stats_date and not project.stats_included_date:
            errors["stats_date"] = "已入统的项目须填写入统日期。"
        if not start:
            errors["stats_included"] = "项目尚未开工，不能入统。"
        elif report.stats_date and report.stats_date < start and "stats_date" not in errors:
            errors["stats_date"] = f"入统日期不能早于开工日期（{start:%Y-%m-%d}）。"
    return errors


def check_complete(report: Report) -> dict[str, str]:
    """Required fields for submission, which depend on the project's situation."""
    errors = {}
    for name in REQUIRED[situation(report)]:
        value = getattr(report, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = f"请填写{FIELD_LABELS[name]}。"
    return errors
