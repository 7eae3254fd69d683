"""Reads over funds: every fund figure on a page, in an export or in the API comes from here, over
a project queryset already narrowed by accounts.scope (visible_projects). Definitions
(docs/funds.md):

- allocated = 下达金额; arrived / transferred / paid = the sums of the ledger's arrivals (到位),
  transfers (拨付) and payments (支付) dated on or before `as_of` (default today);
- payment rate = paid / allocated, in percent with one decimal, for an allocation and for any
  group of allocations (project, programme, region, department): the group's sums divided, not an
  average of rates;
- elapsed months = whole months from the issue date to `as_of` (2026-01-10 → 2026-07-09 is 5,
  → 2026-07-10 is 6);
- expected use (programme with a usage window of W months): straight line,
  allocated × min(1, elapsed / W), two decimals; a programme without straight-line pace expects
  nothing before the window ends and everything after. Without a window there is no pace;
- behind pace: paid < expected; gap = expected − paid (万元), gap_pp = paid% − expected% (negative
  when behind, percentage points of the allocation);
- at risk of recall (only allocations with money left unpaid): the programme's start deadline
  (N months after issue) has passed and the project has not started (no actual start date on or
  before `as_of`); or no payment (or, with none yet, no issue) for the programme's idle months M
  (whole months since the last payment ≥ M).

The ledger is authoritative: payments reported in dispatch reports (ReportFunds.paid) are shown
beside it as "reported" and count only after they are confirmed into the ledger
(services.payments_from_reports), which `payment_candidates` prepares.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

from django.db.models import Max, Min, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from majorprojects.organisation.models import Unit, UnitKind
from majorprojects.projects.models import FundingSource, Project
from majorprojects.reporting.models import COUNTED, ReportFunds
from majorprojects.reporting.selectors import _region_rollup, percent

from .models import Allocation, Loan, LoanRelease, Movement, MovementKind, Programme

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CENTS = Decimal("0.01")
ONE_PLACE = Decimal("0.1")

GROUPS = {"programme": "资金渠道", "region": "区域", "department": "主管部门", "project": "项目"}


def cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENTS, ROUND_HALF_UP)


# --- calendar ---------------------------------------------------------------------------------


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (0 when `end` is not after `start`). A month is complete
    on the same day of the month (the last day for a shorter month): 01-31 → 02-28 is one month."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    end_of_month = calendar.monthrange(end.year, end.month)[1]
    if end.day < start.day and end.day != end_of_month:
        months -= 1
    return max(months, 0)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- one allocation -----------------------------------------------------------------------------


class Pace(TypedDict):
    elapsed_months: int
    window_end: date | None
    expected: Decimal | None
    expected_pct: Decimal | None
    actual_pct: Decimal | None
    gap: Decimal | None
    gap_pp: Decimal | None
    behind: bool


def pace(
    *,
    amount: Decimal,
    paid: Decimal,
    issued_on: date,
    as_of: date,
    window_months: int | None,
    straight_line: bool = True,
) -> Pace:
    """Expected against actual use of one allocation (see the module docstring)."""
    elapsed = months_between(issued_on, as_of)
    actual_pct = percent(paid, amount)
    if not window_months:
        return Pace(
            elapsed_months=elapsed,
            window_end=None,
            expected=None,
            expected_pct=None,
            actual_pct=actual_pct,
            gap=None,
            gap_pp=None,
            behind=False,
        )
    if straight_line:
        share = min(Decimal(1), Decimal(elapsed) / Decimal(window_months))
    else:
        share = Decimal(1) if elapsed >= window_months else Decimal(0)
    expected = cents(amount * share)
    expected_pct = (share * HUNDRED).quantize(ONE_PLACE, ROUND_HALF_UP)
    return Pace(
        elapsed_months=elapsed,
        window_end=add_months(issued_on, window_months),
        expected=expected,
        expected_pct=expected_pct,
        actual_pct=actual_pct,
        gap=max(expected - paid, ZERO),
        gap_pp=(actual_pct or ZERO) - expected_pct,
        behind=paid < expected,
    )


def _as_of(as_of: date | None) -> date:
    return as_of or timezone.localdate()


def _sums(as_of: date) -> dict:
    upto = Q(movements__on_date__lte=as_of)
    return {
        "arrived_sum": Sum("movements__amount", filter=upto & Q(movements__kind=MovementKind.ARRIVAL)),
        "transferred_sum": Sum("movements__amount", filter=upto & Q(movements__kind=MovementKind.TRANSFER)),
        "paid_sum": Sum("movements__amount", filter=upto & Q(movements__kind=MovementKind.PAYMENT)),
        "last_payment": Max("movements__on_date", filter=upto & Q(movements__kind=MovementKind.PAYMENT)),
    }


def allocations_in(projects: QuerySet, *, as_of: date | None = None) -> QuerySet:
    """Allocations of `projects` with their sums as of a date (one query; the unrestricted set of
    the city admin adds no subquery)."""
    qs = Allocation.objects.all()
    if projects.query.where:
        qs = qs.filter(project__in=projects.values("pk"))
    return (
        qs.select_related("programme", "project__region", "project__sector", "project__industry")
        .annotate(**_sums(_as_of(as_of)))
        .order_by("programme__sort_order", "issued_on", "pk")
    )


class AllocationRow(TypedDict):
    allocation: Allocation
    amount: Decimal
    arrived: Decimal
    transferred: Decimal
    paid: Decimal
    unpaid: Decimal
    rate: Decimal | None
    last_payment: date | None
    pace: Pace
    flags: list[str]


def allocation_row(allocation: Allocation, *, as_of: date | None = None) -> AllocationRow:
    """The figures of one allocation. Uses the sums of `allocations_in` when present, otherwise
    reads them (one query)."""
    as_of = _as_of(as_of)
    if not hasattr(allocation, "paid_sum"):
        sums = Allocation.objects.filter(pk=allocation.pk).aggregate(**_sums(as_of))
        for name, value in sums.items():
            setattr(allocation, name, value)
    amount = allocation.amount
    arrived, transferred, paid = (
        cents(allocation.arrived_sum),
        cents(allocation.transferred_sum),
        cents(allocation.paid_sum),
    )
    programme = allocation.programme
    flags = []
    if transferred > arrived:
        flags.append("拨付超过到位")
    if paid > arrived:
        flags.append("支付超过到位")
    return AllocationRow(
        allocation=allocation,
        amount=amount,
        arrived=arrived,
        transferred=transferred,
        paid=paid,
        unpaid=amount - paid,
        rate=percent(paid, amount),
        last_payment=allocation.last_payment,
        pace=pace(
            amount=amount,
            paid=paid,
            issued_on=allocation.issued_on,
            as_of=as_of,
            window_months=programme.window_months,
            straight_line=programme.straight_line,
        ),
        flags=flags,
    )


def allocation_rows(projects: QuerySet, *, as_of: date | None = None, programme=None) -> list[AllocationRow]:
    qs = allocations_in(projects, as_of=as_of)
    if programme is not None:
        qs = qs.filter(programme=programme)
    return [allocation_row(a, as_of=as_of) for a in qs]


# --- groups -------------------------------------------------------------------------------------


class GroupRow(TypedDict):
    key: object
    label: str
    allocations: int
    projects: int
    allocated: Decimal
    arrived: Decimal
    transferred: Decimal
    paid: Decimal
    unpaid: Decimal
    rate: Decimal | None
    arrival_rate: Decimal | None
    windowed: int
    behind_count: int
    behind_amount: Decimal
    behind_gap: Decimal


def summarise(rows: list[AllocationRow], key=None, label: str = "合计") -> GroupRow:
    """Sums of a set of allocation rows and their rates; behind_amount is the allocated amount of
    the allocations behind pace, behind_gap the sum of their gaps."""
    behind = [r for r in rows if r["pace"]["behind"]]
    allocated = sum((r["amount"] for r in rows), ZERO)
    arrived = sum((r["arrived"] for r in rows), ZERO)
    paid = sum((r["paid"] for r in rows), ZERO)
    return GroupRow(
        key=key,
        label=label,
        allocations=len(rows),
        projects=len({r["allocation"].project_id for r in rows}),
        allocated=cents(allocated),
        arrived=cents(arrived),
        transferred=cents(sum((r["transferred"] for r in rows), ZERO)),
        paid=cents(paid),
        unpaid=cents(allocated - paid),
        rate=percent(paid, allocated),
        arrival_rate=percent(arrived, allocated),
        windowed=sum(1 for r in rows if r["pace"]["expected"] is not None),
        behind_count=len(behind),
        behind_amount=cents(sum((r["amount"] for r in behind), ZERO)),
        behind_gap=cents(sum((r["pace"]["gap"] for r in behind), ZERO)),
    )


def department_of(projects: list[Project]) -> dict[int, Unit | None]:
    """The department over each project: its responsible department, else the department that
    governs its industry, else its category (Unit.sectors); None when there is none."""
    sector_ids = {p.industry_id for p in projects if p.industry_id} | {p.sector_id for p in projects}
    governing: dict[int, Unit] = {}
    departments = (
        Unit.objects.filter(kind=UnitKind.DEPARTMENT, sectors__in=sector_ids)
        .prefetch_related("sectors")
        .order_by("name", "pk")
        .distinct()
    )
    for unit in departments:
        for sector in unit.sectors.all():
            governing.setdefault(sector.pk, unit)
    responsible_ids = {p.responsible_department_id for p in projects if p.responsible_department_id}
    responsible = Unit.objects.in_bulk(responsible_ids)
    result = {}
    for p in projects:
        result[p.pk] = (
            responsible.get(p.responsible_department_id)
            or governing.get(p.industry_id)
            or governing.get(p.sector_id)
        )
    return result


def _grouping(rows: list[AllocationRow], by: str, user) -> tuple[dict, dict]:
    """(allocation id → group key, group key → (order, label))."""
    if by == "programme":
        programmes = {r["allocation"].programme for r in rows}
        return (
            {r["allocation"].pk: r["allocation"].programme_id for r in rows},
            {p.pk: ((p.sort_order, p.pk), p.name) for p in programmes},
        )
    if by == "region":
        mapping, labels = _region_rollup(user)
        keys = {r["allocation"].pk: mapping.get(r["allocation"].project.region_id) for r in rows}
        for r in rows:
            region = r["allocation"].project.region
            labels.setdefault(mapping.get(region.pk), (99_999, region.label))
        return keys, {k: ((v[0], 0), v[1]) for k, v in labels.items()}
    if by == "department":
        projects = {r["allocation"].project_id: r["allocation"].project for r in rows}
        departments = department_of(list(projects.values()))
        keys = {
            r["allocation"].pk: getattr(departments[r["allocation"].project_id], "pk", None) for r in rows
        }
        labels = {u.pk: ((0, u.name), u.name) for u in departments.values() if u is not None}
        labels[None] = ((1, ""), "未明确主管部门")
        return keys, labels
    if by == "project":
        keys = {r["allocation"].pk: r["allocation"].project_id for r in rows}
        labels = {
            r["allocation"].project_id: (
                (r["allocation"].project.region.path, r["allocation"].project.name),
                str(r["allocation"].project),
            )
            for r in rows
        }
        return keys, labels
    raise ValueError(by)


def group_rows(rows: list[AllocationRow], by: str, *, user=None) -> list[GroupRow]:
    """One GroupRow per programme, region (the county-level region, as in the dispatch overview),
    department or project, ordered."""
    keys, labels = _grouping(rows, by, user)
    grouped: dict = defaultdict(list)
    for r in rows:
        grouped[keys[r["allocation"].pk]].append(r)
    ordered = sorted(grouped, key=lambda k: labels.get(k, ((99_999, 0), str(k)))[0])
    return [summarise(grouped[k], key=k, label=labels.get(k, (None, str(k)))[1]) for k in ordered]


def funds_overview(
    projects: QuerySet, *, by: str = "programme", as_of: date | None = None, user=None
) -> dict:
    """{"as_of", "by", "by_label", "total": GroupRow, "rows": [GroupRow]} — the funds overview by
    programme, region, department or project."""
    if by not in GROUPS:
        raise ValueError(by)
    as_of = _as_of(as_of)
    rows = allocation_rows(projects, as_of=as_of)
    return {
        "as_of": as_of,
        "by": by,
        "by_label": GROUPS[by],
        "total": summarise(rows),
        "rows": group_rows(rows, by, user=user),
    }


# --- at risk ------------------------------------------------------------------------------------


class RiskRow(TypedDict):
    row: AllocationRow
    reasons: list[str]
    not_started: bool
    idle_months: int | None


def risk_reasons(row: AllocationRow, *, as_of: date) -> RiskRow | None:
    """Why an allocation may be recalled, or None (see the module docstring)."""
    allocation = row["allocation"]
    programme, project = allocation.programme, allocation.project
    if row["unpaid"] <= 0:
        return None
    reasons, not_started, idle = [], False, None
    if programme.start_deadline_months:
        deadline = add_months(allocation.issued_on, programme.start_deadline_months)
        started = project.actual_start_date is not None and project.actual_start_date <= as_of
        if not started and as_of > deadline:
            not_started = True
            reasons.append(f"下达后 {programme.start_deadline_months} 个月（{deadline:%Y-%m-%d}）仍未开工")
    if programme.idle_months:
        since = row["last_payment"] or allocation.issued_on
        months = months_between(since, as_of)
        if months >= programme.idle_months:
            idle = months
            if row["last_payment"]:
                reasons.append(f"已连续 {months} 个月无支付（最近支付 {since:%Y-%m-%d}）")
            else:
                reasons.append(f"下达后 {months} 个月无任何支付")
    if not reasons:
        return None
    return RiskRow(row=row, reasons=reasons, not_started=not_started, idle_months=idle)


def at_risk(projects: QuerySet, *, as_of: date | None = None, programme=None) -> list[RiskRow]:
    """Allocations at risk of recall (可能收回), largest unpaid amount first."""
    as_of = _as_of(as_of)
    risks = [
        risk
        for row in allocation_rows(projects, as_of=as_of, programme=programme)
        if (risk := risk_reasons(row, as_of=as_of)) is not None
    ]
    risks.sort(key=lambda r: (-r["row"]["unpaid"], r["row"]["allocation"].pk))
    return risks


# --- dispatch reports ---------------------------------------------------------------------------


def programmes_by_source() -> dict[str, list[Programme]]:
    mapping: dict[str, list[Programme]] = defaultdict(list)
    for programme in Programme.objects.exclude(funding_source=""):
        mapping[programme.funding_source].append(programme)
    return mapping


class ReportedRow(TypedDict):
    report_id: int
    period_label: str
    period_start: date
    period_end: date
    source: str
    source_label: str
    arrived: Decimal
    paid: Decimal
    confirmed: Decimal
    status: str
    programmes: list[str]


def reported_payments(project: Project) -> list[ReportedRow]:
    """Funds the project reported in its counted dispatch reports (submitted, approved, locked),
    per period and source, beside what of them has been confirmed into the ledger. Status:
    未确认, 已确认, 金额不一致 (the report was changed after its payment was confirmed)."""
    funds = (
        ReportFunds.objects.filter(report__project=project, report__status__in=COUNTED)
        .filter(Q(paid__gt=0) | Q(arrived__gt=0))
        .select_related("report__period")
        .order_by("report__period_end", "source")
    )
    confirmed = defaultdict(lambda: ZERO)
    for m in Movement.objects.filter(allocation__project=project, report__isnull=False).values(
        "report_id", "report_source", "amount"
    ):
        confirmed[(m["report_id"], m["report_source"])] += m["amount"]
    names = {source: [p.name for p in ps] for source, ps in programmes_by_source().items()}
    labels = dict(FundingSource.choices)
    rows = []
    for f in funds:
        done = cents(confirmed.get((f.report_id, f.source)))
        if not done:
            status = "未确认" if f.paid else "—"
        elif done == f.paid:
            status = "已确认"
        else:
            status = "金额不一致"
        rows.append(
            ReportedRow(
                report_id=f.report_id,
                period_label=f.report.period.label,
                period_start=f.report.period.starts_on,
                period_end=f.report.period_end,
                source=f.source,
                source_label=labels.get(f.source, f.source),
                arrived=cents(f.arrived),
                paid=cents(f.paid),
                confirmed=done,
                status=status,
                programmes=names.get(f.source, []),
            )
        )
    return rows


class Candidate(TypedDict):
    report_id: int
    period_label: str
    on_date: date
    paid: Decimal
    split: list[tuple[Allocation, Decimal]]
    skip: str


def payment_candidates(
    project: Project, programme: Programme, *, as_of: date | None = None
) -> list[Candidate]:
    """What confirming the project's reported payments into `programme` would write, and why a
    report is skipped. Rules (docs/funds.md):
    - only counted reports with paid > 0 under the programme's dispatch source;
    - a (report, source) already confirmed, into any programme, is skipped (idempotent). It is
      keyed on the confirmed movements' own report and `report_source`, never on the programme
      their allocation has now: a later change of programme cannot make it confirmable again;
    - a period in which the ledger already holds a hand-entered payment of a programme with the
      same source is skipped: the payment was recorded directly, confirming would count it twice;
    - the payment is dated the period's last day (today if that is later) and fills the
      programme's allocations issued on or before that date, oldest first, up to each one's unpaid
      amount; a payment that does not fit entirely is skipped, nothing of it is written."""
    as_of = _as_of(as_of)
    if not programme.funding_source:
        return []
    source = programme.funding_source
    confirmed = set(
        Movement.objects.filter(
            allocation__project=project, report__isnull=False, report_source=source
        ).values_list("report_id", flat=True)
    )
    manual_dates = list(
        Movement.objects.filter(
            allocation__project=project,
            allocation__programme__funding_source=source,
            kind=MovementKind.PAYMENT,
            report__isnull=True,
            report_source="",
        ).values_list("on_date", flat=True)
    )
    allocations = [
        [a, a.amount - cents(a.paid_sum)]
        for a in allocations_in(Project.objects.filter(pk=project.pk), as_of=as_of).filter(
            programme=programme
        )
    ]
    funds = (
        ReportFunds.objects.filter(
            report__project=project, report__status__in=COUNTED, source=source, paid__gt=0
        )
        .select_related("report__period")
        .order_by("report__period_end", "report_id")
    )
    candidates = []
    for f in funds:
        period = f.report.period
        on_date = min(period.ends_on, as_of)
        candidate = Candidate(
            report_id=f.report_id, period_label=period.label, on_date=on_date, paid=f.paid, split=[], skip=""
        )
        candidates.append(candidate)
        if f.report_id in confirmed:
            candidate["skip"] = "已确认"
            continue
        if any(period.starts_on <= d <= period.ends_on for d in manual_dates):
            candidate["skip"] = "本期已有手工登记的支付"
            continue
        open_ = [pair for pair in allocations if pair[0].issued_on <= on_date and pair[1] > 0]
        room = sum((pair[1] for pair in open_), ZERO)
        if room < f.paid:
            candidate["skip"] = f"填报支付 {cents(f.paid)} 万元超过可支付余额 {cents(room)} 万元"
            continue
        rest = f.paid
        for pair in open_:
            if rest <= 0:
                break
            part = min(rest, pair[1])
            candidate["split"].append((pair[0], part))
            pair[1] -= part
            rest -= part
    return candidates


# --- loans --------------------------------------------------------------------------------------


class LoanRow(TypedDict):
    loan: Loan
    released: Decimal
    release_rate: Decimal | None
    last_release: date | None


def loans_in(projects: QuerySet, *, as_of: date | None = None) -> QuerySet:
    as_of = _as_of(as_of)
    qs = Loan.objects.all()
    if projects.query.where:
        qs = qs.filter(project__in=projects.values("pk"))
    upto = Q(releases__on_date__lte=as_of)
    return (
        qs.select_related("project__region", "programme")
        .annotate(
            released_sum=Sum("releases__amount", filter=upto),
            last_release=Max("releases__on_date", filter=upto),
        )
        .order_by("signed_on", "pk")
    )


def loan_row(loan: Loan) -> LoanRow:
    released = cents(loan.released_sum)
    return LoanRow(
        loan=loan,
        released=released,
        release_rate=percent(released, loan.amount_signed),
        last_release=loan.last_release,
    )


def loan_rows(projects: QuerySet, *, as_of: date | None = None) -> list[LoanRow]:
    return [loan_row(loan) for loan in loans_in(projects, as_of=as_of)]


def loans_summary(rows: list[LoanRow]) -> dict:
    signed = sum((r["loan"].amount_signed for r in rows), ZERO)
    released = sum((r["released"] for r in rows), ZERO)
    return {
        "loans": len(rows),
        "signed": cents(signed),
        "released": cents(released),
        "release_rate": percent(released, signed),
        "subsidy_applied": cents(sum((r["loan"].subsidy_applied for r in rows), ZERO)),
        "subsidy_granted": cents(sum((r["loan"].subsidy_granted for r in rows), ZERO)),
    }


# --- one project --------------------------------------------------------------------------------


def project_funds(project: Project, *, as_of: date | None = None) -> dict:
    """Everything the project file's funds tab shows: allocations with their movements and
    figures, totals by programme, at-risk reasons, loans with releases, and the funds reported in
    dispatch reports."""
    as_of = _as_of(as_of)
    only = Project.objects.filter(pk=project.pk)
    allocations = list(
        allocations_in(only, as_of=as_of).prefetch_related(
            Prefetch("movements", queryset=Movement.objects.select_related("created_by"))
        )
    )
    rows = [allocation_row(a, as_of=as_of) for a in allocations]
    releases = Prefetch("releases", queryset=LoanRelease.objects.select_related("created_by"))
    loans = [loan_row(loan) for loan in loans_in(only, as_of=as_of).prefetch_related(releases)]
    risks = {r["row"]["allocation"].pk: r for row in rows if (r := risk_reasons(row, as_of=as_of))}
    return {
        "as_of": as_of,
        "project": project,
        "allocations": [{**row, "risk": risks.get(row["allocation"].pk)} for row in rows],
        "by_programme": group_rows(rows, "programme"),
        "total": summarise(rows),
        "at_risk": list(risks.values()),
        "loans": loans,
        "loans_total": loans_summary(loans),
        "reported": reported_payments(project),
    }


def first_movement_date(allocation: Allocation) -> date | None:
    return allocation.movements.aggregate(d=Min("on_date"))["d"]


def first_release_date(loan: Loan) -> date | None:
    return LoanRelease.objects.filter(loan=loan).aggregate(d=Min("on_date"))["d"]
