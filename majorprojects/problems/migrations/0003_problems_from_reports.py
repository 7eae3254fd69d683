"""Existing dispatch reports' "存在问题" text becomes ledger items (source: report), one per
report, as problems.services.problem_from_report does for new submissions. Only reports that
were sent (submitted, approved, locked) count: a draft is not yet a report of a problem."""

from django.db import migrations

SENT = ("submitted", "approved", "locked")
TITLE_LENGTH = 40


def _title(text):
    first = text.splitlines()[0]
    return first[:TITLE_LENGTH] + ("…" if len(first) > TITLE_LENGTH else "")


def forwards(apps, schema_editor):
    Report = apps.get_model("reporting", "Report")
    Problem = apps.get_model("problems", "Problem")
    Category = apps.get_model("problems", "Category")
    Event = apps.get_model("audit", "Event")
    category = Category.objects.filter(code="other").first() or Category.objects.order_by("sort_order").first()
    if category is None:
        return
    reports = (
        Report.objects.filter(status__in=SENT, ledger_problem__isnull=True)
        .exclude(problems="")
        .select_related("project")
        .order_by("pk")
    )
    for report in reports.iterator():
        text = report.problems.strip()
        if not text:
            continue
        project = report.project
        problem = Problem.objects.create(
            project=project,
            title=_title(text),
            category=category,
            source="report",
            description=text,
            raised_by_id=report.filled_by_id,
            raising_unit_id=project.owner_unit_id,
            region_id=project.region_id,
            report=report,
        )
        Event.objects.create(
            verb="problem_raise",
            target_type="problem",
            target_id=str(problem.pk),
            target_label=problem.title,
            project=project,
            details={"category": category.name, "source": "调度报表", "report": report.pk, "migrated": True},
        )


def backwards(apps, schema_editor):
    Problem = apps.get_model("problems", "Problem")
    Event = apps.get_model("audit", "Event")
    migrated = Problem.objects.filter(source="report", status="reported", report__isnull=False)
    ids = [str(pk) for pk in migrated.values_list("pk", flat=True)]
    Event.objects.filter(target_type="problem", target_id__in=ids).delete()
    migrated.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0002_default_categories"),
        ("reporting", "0003_year_done"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
