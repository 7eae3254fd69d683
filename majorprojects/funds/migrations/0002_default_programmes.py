"""The programmes every deployment starts with (SPEC C5, seed 000 (二)(三), seed 002 (四)(五)).
The city admin edits their rules afterwards; codes stay stable for the API and exports."""

from django.db import migrations

# code, name, kind, level, dispatch-report source, window, straight line, idle, start deadline
PROGRAMMES = [
    ("central_budget", "中央预算内投资", "budget", "central", "central_budget", 12, True, 3, 6),
    ("ultra_long_bond", "超长期特别国债", "bond", "central", "ultra_long_bond", 12, True, 3, 6),
    ("special_bond", "地方政府专项债券", "bond", "provincial", "special_bond", 12, True, 3, 6),
    ("policy_finance", "政策性开发性金融工具", "finance", "central", "policy_finance", 12, True, 6, 3),
    ("mid_long_loan", "中长期贷款", "loan", "other", "bank_loan", None, True, None, None),
    ("loan_subsidy", "贷款贴息", "subsidy", "central", "fiscal", None, True, None, None),
    ("provincial", "省级资金", "budget", "provincial", "fiscal", None, True, 6, None),
    ("city", "市级资金", "budget", "city", "fiscal", None, True, 6, None),
    ("other", "其他", "other", "other", "other", None, True, None, None),
]


def create(apps, schema_editor):
    Programme = apps.get_model("funds", "Programme")
    for order, (code, name, kind, level, source, window, straight, idle, start) in enumerate(PROGRAMMES):
        Programme.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "level": level,
                "funding_source": source,
                "window_months": window,
                "straight_line": straight,
                "idle_months": idle,
                "start_deadline_months": start,
                "sort_order": (order + 1) * 10,
            },
        )


def remove(apps, schema_editor):
    Programme = apps.get_model("funds", "Programme")
    Programme.objects.filter(code__in=[p[0] for p in PROGRAMMES], allocations__isnull=True, loans__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_funds")]

    operations = [migrations.RunPython(create, remove)]
