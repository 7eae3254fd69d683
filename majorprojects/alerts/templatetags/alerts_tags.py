"""Template helpers of the warnings pages: the light dot's colour and label, and the project
list's light column (the latest scanned month's light of each project on the page)."""

from decimal import Decimal

from django import template

from majorprojects.alerts import selectors
from majorprojects.alerts.engine import light_rank
from majorprojects.alerts.models import GREEN, Light, Status, Warning
from majorprojects.projects.models import Project

register = template.Library()

CLASSES = {Light.RED.value: "danger", Light.YELLOW.value: "warning", GREEN: "success"}
STATUS_CLASSES = {
    Status.ISSUED.value: "danger",
    Status.NOTIFIED.value: "info",
    Status.RECTIFYING.value: "primary",
    Status.RECTIFIED.value: "warning",
    Status.STRUCK_OFF.value: "success",
    Status.EXEMPTED.value: "secondary",
}


@register.filter
def light_class(light: str) -> str:
    """Bootstrap colour name of a light: danger, warning, success."""
    return CLASSES.get(light, "secondary")


@register.filter
def light_label(light: str) -> str:
    return selectors.LIGHT_LABELS.get(light, "未扫描")


@register.filter
def num(value) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros ("—" for none)."""
    if value is None or value == "":
        return "—"
    return format(Decimal(value).normalize(), "f")


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "secondary")


@register.simple_tag
def project_list_lights(page) -> str:
    """Give every project on a list page `alert_light` and `alert_rules` (the rule names that
    light it) for the latest scanned month, in three queries whatever the page size; returns the
    month as "YYYY年M月" ("" and no lights when nothing was scanned yet)."""
    page.object_list = list(page.object_list)
    period = selectors.latest_period()
    ids = [p.pk for p in page.object_list]
    if period is None or not ids:
        return ""
    year, month = period
    # A package is never lit itself: it shows the worst light of its sub-projects.
    children: dict[int, list[int]] = {}
    packages = [p.pk for p in page.object_list if p.is_package]
    if packages:
        for pk, parent in Project.objects.filter(parent_id__in=packages).values_list("pk", "parent_id"):
            children.setdefault(parent, []).append(pk)
    every = ids + [pk for kids in children.values() for pk in kids]
    lights = selectors.project_lights(every, year, month)
    names: dict[int, list[str]] = {}
    rows = selectors.lighting(Warning.objects.filter(project_id__in=every, year=year, month=month)).order_by(
        "rule__sort_order", "rule__code"
    )
    for pk, name in rows.values_list("project_id", "rule__name"):
        names.setdefault(pk, []).append(name)
    for p in page.object_list:
        own = [p.pk, *children.get(p.pk, [])]
        found = [lights[pk] for pk in own if pk in lights]
        p.alert_light = max(found, key=light_rank) if found else GREEN
        p.alert_rules = "、".join(dict.fromkeys(n for pk in own for n in names.get(pk, [])))
    return f"{year}年{month}月"
