"""The demo city's warnings (红黄灯): county investment targets as a campaign notice would set
them, the default rules scanned for the last three complete months (so lights carry over and
escalate), and the latest month's warnings taken part of the way through rectification by the
accounts whose job it is: the city notifies, counties and project units plan and report, the city
strikes some off, one justification is approved.

Deterministic (the city's random generator) and fast: the scans are the real engine, the workflow
the real services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.alerts import engine, services
from majorprojects.alerts.models import RegionTarget, Warning
from majorprojects.organisation.models import RegionKind
from majorprojects.reporting.selectors import previous_month

# Growth targets (%) the city set for its counties and zones this year.
TARGET_CHOICES = (Decimal("8"), Decimal("9"), Decimal("10"), Decimal("10"), Decimal("12"))
SCANNED_MONTHS = 3


def _months(today) -> list[tuple[int, int]]:
    """The last complete months, oldest first."""
    months, (y, m) = [], previous_month(today.year, today.month)
    for _ in range(SCANNED_MONTHS):
        months.append((y, m))
        y, m = previous_month(y, m)
    return months[::-1]


def _account(city, username: str):
    return next(u for u in city.accounts if u.username == username)


def build_warnings(city) -> dict:
    rng, today = city.rng, timezone.localdate()
    admin = _account(city, "admin")
    targets = [
        RegionTarget(
            region=region,
            year=year,
            growth_pct=rng.choice(TARGET_CHOICES),
            note="市重大项目攻坚行动方案",
            updated_by=admin,
        )
        for region in city.regions.values()
        if region.kind != RegionKind.CITY and region.parent_id == city.city.pk
        for year in {m[0] for m in _months(today)}
    ]
    RegionTarget.objects.bulk_create(targets)
    scans = []
    for year, month in _months(today):
        end = engine.period_end(year, month)
        scans.append(services.scan_run(actor=admin, year=year, month=month, today=min(end, today)))
    year, month = _months(today)[-1]
    latest = list(
        Warning.objects.filter(year=year, month=month)
        .select_related("project", "region", "rule")
        .order_by("pk")
    )
    steps = _rectify(city, latest, admin, today)
    return {
        "targets": len(targets),
        "scans": [(s.created, s.updated, s.cleared) for s in scans],
        "warnings": Warning.objects.filter(year=year, month=month).count(),
        "red": sum(1 for w in latest if w.light == "red"),
        "yellow": sum(1 for w in latest if w.light == "yellow"),
        **steps,
    }


def _rectifier(city, warning):
    """Who files the plan: the county account over the project or region."""
    region = warning.project.region if warning.project_id else warning.region
    by_pk = {r.pk: r for r in city.regions.values()}
    while region is not None and region.parent_id != city.city.pk:
        region = by_pk.get(region.parent_id)
    if region is None:
        return None
    return next((u for u in city.accounts if u.role == Role.COUNTY and u.region_id == region.pk), None)


def _rectify(city, warnings, admin, today) -> dict:
    """Half notified; of those most with a plan, some reported rectified, a few struck off."""
    rng = city.rng
    made = {"notified": 0, "planned": 0, "rectified": 0, "struck_off": 0, "exempted": 0}
    for warning in warnings:
        roll = rng.random()
        if roll > 0.55:
            continue
        warning = services.warning_notify(actor=admin, warning=warning, note="请按期整改并报送整改情况。")
        made["notified"] += 1
        actor = _rectifier(city, warning)
        if actor is None or roll > 0.4:
            continue
        if made["exempted"] < 2 and warning.rule.exemptable and roll < 0.03:
            exemption = services.exemption_request(
                actor=actor,
                warning=warning,
                justification="受汛期连续降雨影响停工，已报市防指备案，属正当理由。",
            )
            services.exemption_decide(
                actor=admin, exemption=exemption, approve=True, note="情况属实，同意豁免。"
            )
            made["exempted"] += 1
            continue
        warning = services.warning_plan(
            actor=actor,
            warning=warning,
            plan="成立专班，倒排工期，每周调度一次，月底前完成整改。",
            deadline=today + timedelta(days=rng.choice((10, 15, 20, 30))),
        )
        made["planned"] += 1
        if roll > 0.25:
            continue
        warning = services.warning_mark_rectified(
            actor=actor, warning=warning, rectification="已按计划完成整改，相关佐证材料已上传。"
        )
        made["rectified"] += 1
        if roll > 0.12:
            continue
        services.warning_strike_off(actor=admin, warning=warning, note="经核实整改到位，予以销号。")
        made["struck_off"] += 1
    return made


def clear_warnings(regions) -> None:
    """For builder.clear_demo: warnings, exemptions and targets of the demo regions (regions are
    protected from deletion while warnings point at them)."""
    from majorprojects.alerts.models import Exemption

    Exemption.objects.filter(region__in=regions).delete()
    Warning.objects.filter(region__in=regions).delete()
    RegionTarget.objects.filter(region__in=regions).delete()
