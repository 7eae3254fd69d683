"""Seed the default rule set (alerts.defaults) — only the rules whose codes are not there yet."""

from decimal import Decimal

from django.db import migrations

from majorprojects.alerts.defaults import DEFAULT_RULES


def _decimal(value):
    return None if value is None else Decimal(str(value))


def seed(apps, schema_editor):
    Rule = apps.get_model("alerts", "Rule")
    existing = set(Rule.objects.values_list("code", flat=True))
    for data in DEFAULT_RULES:
        if data["code"] in existing:
            continue
        scope = data["scope"]
        Rule.objects.create(
            code=data["code"],
            name=data["name"],
            description=data["description"],
            subject=data["subject"],
            metric=data["metric"],
            params=data["params"],
            scope_lists=scope["lists"],
            scope_levels=scope["levels"],
            scope_programmes=scope["programmes"],
            scope_regions=scope["regions"],
            scope_stages=scope["stages"],
            yellow_threshold=_decimal(data["yellow"]),
            red_threshold=_decimal(data["red"]),
            yellow_after=data["yellow_after"],
            red_after=data["red_after"],
            grace_days=data["grace_days"],
            grace_months=data["grace_months"],
            exemptable=data["exemption"]["allowed"],
            exemption_approver=data["exemption"]["approver"],
            year_from=data["years"]["from"],
            year_to=data["years"]["to"],
            is_active=data["active"],
            sort_order=data["sort_order"],
        )


def unseed(apps, schema_editor):
    Rule = apps.get_model("alerts", "Rule")
    codes = [d["code"] for d in DEFAULT_RULES]
    Rule.objects.filter(code__in=codes, warnings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_warnings")]

    operations = [migrations.RunPython(seed, unseed)]
