"""The usual schedules (SPEC C4, seed 001 三(二)): annual-construction projects monthly, due the
28th (December the 25th); reserve and unlisted pre-construction projects quarterly; started but
not yet counted in statistics weekly, due Friday. They start with the current month, so a new
deployment does not owe years of reports. The city admin edits them."""

from datetime import date

from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    {
        "name": "月调度（年度建设项目）",
        "frequency": "monthly",
        "list_kinds": ["construction"],
        "stages": [],
        "due_day": 28,
        "december_due_day": 25,
        "order": 10,
    },
    {
        "name": "季调度（储备及前期项目）",
        "frequency": "quarterly",
        "list_kinds": ["reserve", "unlisted"],
        "stages": ["conceived", "reserved", "preparing", "signed"],
        "due_day": 25,
        "december_due_day": 20,
        "order": 20,
    },
    {
        "name": "周调度（已开工未入统项目）",
        "frequency": "weekly",
        "list_kinds": [],
        "stages": [],
        "stats_pending_only": True,
        "due_weekday": 5,
        "order": 30,
    },
]


def create(apps, schema_editor):
    Schedule = apps.get_model("reporting", "Schedule")
    today = timezone.localdate()
    for values in SCHEDULES:
        Schedule.objects.get_or_create(
            name=values["name"], defaults={**values, "starts_on": date(today.year, today.month, 1)}
        )


def remove(apps, schema_editor):
    apps.get_model("reporting", "Schedule").objects.filter(name__in=[s["name"] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_dispatch")]
    operations = [migrations.RunPython(create, remove)]
