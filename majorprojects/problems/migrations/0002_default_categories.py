from django.db import migrations

CATEGORIES = [
    ("funds", "资金"),
    ("land", "用地"),
    ("forest", "用林"),
    ("eia_swc", "环评水保"),
    ("facilities", "配套设施"),
    ("site", "施工环境"),
    ("approval", "审批手续"),
    ("financing", "融资"),
    ("other", "其他"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("problems", "Category")
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order * 10})


def unseed(apps, schema_editor):
    Category = apps.get_model("problems", "Category")
    Category.objects.filter(code__in=[c for c, _ in CATEGORIES], problems__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
