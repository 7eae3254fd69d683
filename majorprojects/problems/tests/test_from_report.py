"""A dispatch report's "存在问题" text becomes one ledger item, however often it is submitted, and
the data migration converts the texts of reports sent before the ledger existed."""

import importlib

import pytest
from django.apps import apps

from majorprojects.audit.models import Event
from majorprojects.problems.models import Problem, Source, Status
from majorprojects.problems.services import problem_from_report
from majorprojects.reporting.models import Status as ReportStatus
from majorprojects.reporting.tests import conftest as dispatch

# The dispatch fixtures: the monthly schedule, listed projects, October 2026 open, a report slot.
monthly, listed, october, slot = dispatch.monthly, dispatch.listed, dispatch.october, dispatch.slot

migration = importlib.import_module("majorprojects.problems.migrations.0003_problems_from_reports")


@pytest.fixture
def report(slot, users):
    slot.problems = "  征地拆迁尚有 3 户未签约\n需区政府协调  "
    slot.filled_by = users["owner_a"]
    slot.status = ReportStatus.SUBMITTED
    slot.save()
    return slot


def test_report_problem_becomes_one_ledger_item(report, users):
    problem = problem_from_report(report)
    assert problem.source == Source.REPORT and problem.report == report
    assert problem.description == "征地拆迁尚有 3 户未签约\n需区政府协调"
    assert problem.title == "征地拆迁尚有 3 户未签约"
    assert problem.category.code == "other" and problem.status == Status.REPORTED
    assert problem.raised_by == users["owner_a"] and problem.raising_unit == report.project.owner_unit
    assert problem_from_report(report).pk == problem.pk
    assert Problem.objects.count() == 1
    assert Event.objects.filter(verb="problem_raise").count() == 1


def test_resubmitted_text_updates_an_unanalysed_item_only(report, users):
    problem = problem_from_report(report)
    report.problems = "征地拆迁尚有 1 户未签约"
    problem_from_report(report, actor=users["owner_a"])
    problem.refresh_from_db()
    assert problem.description == "征地拆迁尚有 1 户未签约"
    from majorprojects.problems.services import problem_accept

    problem_accept(actor=users["admin"], problem=problem)
    report.problems = "全部签约"
    problem_from_report(report)
    problem.refresh_from_db()
    assert problem.description == "征地拆迁尚有 1 户未签约"


def test_empty_text_makes_nothing(slot):
    slot.problems = "   "
    assert problem_from_report(slot) is None
    assert not Problem.objects.exists()


def test_data_migration_converts_sent_reports_once(report, october, listed):
    from majorprojects.reporting.models import Report

    draft = Report.objects.get(period=october, project=listed["b"])
    draft.problems = "草稿中的问题"
    draft.status = ReportStatus.DRAFT
    draft.save()
    migration.forwards(apps, None)
    migration.forwards(apps, None)
    problem = Problem.objects.get()
    assert problem.report == report and problem.source == Source.REPORT
    assert Event.objects.get(verb="problem_raise").details["migrated"] is True
    migration.backwards(apps, None)
    assert not Problem.objects.exists() and not Event.objects.filter(verb="problem_raise").exists()
