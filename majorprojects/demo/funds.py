"""The demo city's funds ledger (资金台账, docs/funds.md), after the dispatch history.

- Allocations (下达) of 中央预算内投资, 超长期特别国债 and 地方政府专项债券 in batches: each batch is
  one provincial document (文号) issued on one day, allocating to many projects; the two demo years
  (and the end of the year before, where the history starts) have three or four batches each.
- Where the dispatch history reports money of the programme's source, the ledger follows it: the
  project's reported arrivals (到位) become arrivals on the period's last day, allocated by the
  latest batch issued before them; the finance bureau transfers (拨付) them a few days later; the
  reported payments (支付) are confirmed into the ledger by the rules of
  `funds.selectors.payment_candidates` (oldest allocation first, a report confirmed once, the
  movement keeping its report) — what `funds.services.payments_from_reports` writes. A few
  projects' reports are left unconfirmed, and for some of those the real service is run, so the
  "confirm reported payments" page has work to show and a record of having been used.
- Projects with the programme in their funding but nothing reported get hand-entered ledgers:
  most paid on pace over the 12-month window, a few behind pace, a few idle for months (at risk of
  recall), and a few projects not yet started whose allocation is older than the start deadline.
- A handful of bank loans (中长期贷款) with releases (the reported bank-loan arrivals, or drawn
  over the works) and interest subsidies applied for and granted.

Payments never exceed allocations: every payment is placed within its allocation's unpaid room.
Events (allocation_create, funds_arrival/transfer/payment, funds_confirm_reported, loan_create,
loan_release) are written at their dates, as the services write them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from majorprojects.audit.services import _jsonable
from majorprojects.funds.models import Allocation, Loan, LoanRelease, Movement, MovementKind, Programme
from majorprojects.funds.selectors import add_months
from majorprojects.funds.services import payments_from_reports
from majorprojects.projects.models import FundingSource, Project, Stage
from majorprojects.reporting.models import COUNTED, ReportFunds

from . import builder, data, dispatch
from .approvals import _event, filler, write_events

ZERO = Decimal(0)
PROGRAMMES = ("central_budget", "ultra_long_bond", "special_bond")
# Per programme: batch issue days (month, day) and the document's prefix; batch names and numbers
# are derived per year.
BATCHES = {
    "central_budget": (((3, 18), (6, 12), (8, 26), (10, 22)), "湘发改投资", "中央预算内投资"),
    "ultra_long_bond": (((4, 8), (6, 20), (9, 16)), "湘发改投资", "超长期特别国债"),
    "special_bond": (((2, 24), (5, 9), (7, 18), (9, 10)), "湘财预", "新增专项债券"),
}
NOT_STARTED = (Stage.CONCEIVED, Stage.RESERVED, Stage.PREPARING, Stage.SIGNED)


def _cn_batch(k: int) -> str:
    return f"第{builder._cn(k)}批"


def _batches(rng, today: date) -> dict[str, list[tuple[str, str, date]]]:
    """[(batch name, document number, issue date)] per programme, oldest first, up to today."""
    out: dict[str, list[tuple[str, str, date]]] = {}
    for code, (days, prefix, label) in BATCHES.items():
        rows = []
        for year in (today.year - 2, today.year - 1, today.year):
            number = rng.randint(30, 90)
            for k, (m, d) in enumerate(days, start=1):
                issued = date(year, m, d)
                number += rng.randint(25, 140)
                if issued <= today:
                    rows.append((f"{year}年{_cn_batch(k)}{label}", f"{prefix}〔{year}〕{number}号", issued))
        out[code] = rows
    return out


def _wan(value: float) -> Decimal:
    return Decimal(max(10, round(value / 10) * 10))


class Ledger:
    """What is being written, with the events at their dates."""

    def __init__(self, city, rng, today):
        self.city, self.rng, self.today = city, rng, today
        self.admin = next(u for u in city.accounts if u.username == "admin")
        # Arrivals and transfers are the finance bureau's acts (accounts.scope.can_record_funds).
        self.finance = next(u for u in city.accounts if u.username == "caizheng")
        self.allocations: list[Allocation] = []
        self.movements: list[tuple[Allocation, Movement, object]] = []  # (allocation, movement, actor)
        self.confirmations: list[tuple[Project, Programme, list[Movement], date, object]] = []
        self.loans: list[Loan] = []
        self.releases: list[tuple[Loan, LoanRelease]] = []

    def allocate(self, project, programme, batch, amount: Decimal) -> Allocation:
        name, number, issued = batch
        allocation = Allocation(
            project=project,
            programme=programme,
            batch=name,
            document_no=number,
            issued_on=issued,
            amount=amount,
            created_by=self.admin,
        )
        allocation.paid = ZERO
        self.allocations.append(allocation)
        return allocation

    def move(self, allocation, kind, on_date: date, amount: Decimal, actor, note="", report=None):
        movement = Movement(
            allocation=allocation,
            kind=kind,
            on_date=on_date,
            amount=amount,
            note=note,
            report_id=report.pk if report else None,
            report_source=allocation.programme.funding_source if report else "",
            created_by=actor,
        )
        if kind == MovementKind.PAYMENT:
            allocation.paid += amount
        self.movements.append((allocation, movement, actor))
        return movement


def build_funds(city: builder.City) -> dict:
    rng, today = city.rng, timezone.localdate()
    programmes = {p.code: p for p in Programme.objects.all()}
    batches = _batches(rng, today)
    ledger = Ledger(city, rng, today)
    reported = defaultdict(list)  # (project pk, source) → [(ends_on, report, arrived, paid)]
    for f in (
        ReportFunds.objects.filter(
            report__status__in=COUNTED, report__project__region__path__startswith=city.city.path
        )
        .select_related("report__period")
        .order_by("report__period__ends_on", "report_id")
    ):
        reported[(f.report.project_id, f.source)].append(
            (f.report.period.ends_on, f.report, f.arrived, f.paid)
        )
    plans = [pl for pl in city.all_plans() if not pl.project.is_package]
    unconfirmed: list[tuple[Project, Programme]] = []
    hand: list[tuple[builder.Plan, str]] = []
    for plan in plans:
        for code in PROGRAMMES:
            if plan.funding.get(code, ZERO) <= 0:
                continue
            rows = reported.get((plan.project.pk, code))
            if rows:
                leave = len(unconfirmed) < 4 and rng.random() < 0.05
                _from_reports(ledger, plan, programmes[code], batches[code], rows, confirm=not leave)
                if leave:
                    unconfirmed.append((plan.project, programmes[code]))
            else:
                hand.append((plan, code))
    _by_hand(ledger, hand, programmes, batches)
    _loans(ledger, plans, reported, programmes)
    _write(ledger)
    for project, programme in unconfirmed[:2]:
        payments_from_reports(actor=ledger.admin, project=project, programme=programme)
    return {
        "allocations": len(ledger.allocations),
        "movements": len(ledger.movements),
        "loans": len(ledger.loans),
    }


def _from_reports(ledger: Ledger, plan, programme, batches, rows, *, confirm: bool) -> None:
    """Arrivals as reported, each allocated by the latest batch issued 10+ days before it; the
    transfers follow; the reported payments confirmed oldest allocation first."""
    rng, p = ledger.rng, plan.project
    actor = filler(ledger.city, p)
    by_batch: dict[tuple, list] = defaultdict(list)
    for ends_on, _report, arrived, _paid in rows:
        if arrived <= 0:
            continue
        fitting = [b for b in batches if b[2] <= ends_on - timedelta(days=10)] or batches[:1]
        by_batch[fitting[-1]].append((ends_on, arrived))
    allocations = []
    for batch in sorted(by_batch, key=lambda b: b[2]):
        arrivals = by_batch[batch]
        allocation = ledger.allocate(p, programme, batch, sum((a for _, a in arrivals), ZERO))
        allocations.append(allocation)
        for ends_on, arrived in arrivals:
            on = min(max(ends_on, allocation.issued_on), ledger.today)
            ledger.move(allocation, MovementKind.ARRIVAL, on, arrived, ledger.finance, "资金到达财政专户")
            moved = min(on + timedelta(days=rng.randint(3, 15)), ledger.today)
            ledger.move(allocation, MovementKind.TRANSFER, moved, arrived, ledger.finance, "拨付至项目单位")
    if not confirm or not allocations:
        return
    for ends_on, report, _arrived, paid in rows:
        if paid <= 0:
            continue
        on = min(ends_on, ledger.today)
        open_ = [a for a in allocations if a.issued_on <= on and a.amount - a.paid > 0]
        if sum((a.amount - a.paid for a in open_), ZERO) < paid:
            continue  # the service skips a payment that does not fit, whole
        made, rest = [], paid
        for allocation in open_:
            if rest <= 0:
                break
            part = min(rest, allocation.amount - allocation.paid)
            made.append(
                ledger.move(
                    allocation,
                    MovementKind.PAYMENT,
                    on,
                    part,
                    actor,
                    f"据{report.period.label}调度表确认",
                    report=report,
                )
            )
            rest -= part
        ledger.confirmations.append((p, programme, made, on + timedelta(days=rng.randint(3, 12)), actor))


def _by_hand(ledger: Ledger, hand, programmes, batches) -> None:
    """Ledgers entered directly: pace by design. Started projects: most on pace, a few behind, a
    few idle; not-started ones: an allocation waiting for the start (some past the deadline)."""
    rng, today = ledger.rng, ledger.today
    started = [
        (pl, c) for pl, c in hand if pl.project.actual_start_date and pl.project.stage == Stage.CONSTRUCTION
    ]
    waiting = [(pl, c) for pl, c in hand if pl.project.stage in NOT_STARTED]
    rng.shuffle(started)
    rng.shuffle(waiting)
    for n, (plan, code) in enumerate(started[:40]):
        kind = "behind" if n % 8 == 3 else "idle" if n % 8 == 6 else "pace"
        _paced(ledger, plan, programmes[code], batches[code], kind)
    for n, (plan, code) in enumerate(waiting[:8]):
        p = plan.project
        recent = [b for b in batches[code] if (today - b[2]).days <= (300 if n < 5 else 150)]
        if not recent:
            continue
        batch = recent[0] if n < 5 else recent[-1]
        amount = _wan(float(plan.funding[code]) * rng.uniform(0.2, 0.45))
        allocation = ledger.allocate(p, programmes[code], batch, amount)
        arrive = min(batch[2] + timedelta(days=rng.randint(20, 45)), today)
        ledger.move(allocation, MovementKind.ARRIVAL, arrive, amount, ledger.finance, "资金到达财政专户")


def _paced(ledger: Ledger, plan, programme, batches, kind: str) -> None:
    rng, today, p = ledger.rng, ledger.today, plan.project
    usable = [
        b for b in batches if b[2] >= p.actual_start_date - timedelta(days=60) and (today - b[2]).days >= 45
    ]
    if not usable:
        return
    batch = rng.choice(usable[-4:])
    amount = _wan(float(plan.funding[programme.code]) * rng.uniform(0.25, 0.6))
    allocation = ledger.allocate(p, programme, batch, amount)
    actor = filler(ledger.city, p)
    issued = batch[2]
    arrive = issued + timedelta(days=rng.randint(15, 40))
    if arrive > today:
        return
    ledger.move(allocation, MovementKind.ARRIVAL, arrive, amount, ledger.finance, "资金到达财政专户")
    ledger.move(
        allocation,
        MovementKind.TRANSFER,
        min(arrive + timedelta(days=7), today),
        amount,
        ledger.finance,
        "拨付至项目单位",
    )
    window = programme.window_months or 12
    pace = {"pace": rng.uniform(1.02, 1.3), "behind": rng.uniform(0.35, 0.6), "idle": rng.uniform(0.6, 0.9)}[
        kind
    ]
    months = []
    m = 1
    while (day := add_months(issued, m) - timedelta(days=rng.randint(0, 8))) <= today:
        months.append((m, day))
        m += 1
    if kind == "idle":
        months = months[: max(1, len(months) - rng.randint(4, 6))]
    for m, day in months:
        target = min(amount, _wan(float(amount) * min(1.0, m / window * pace)))
        step = target - allocation.paid
        if step > 0:
            ledger.move(allocation, MovementKind.PAYMENT, max(day, arrive), step, actor, "按工程进度支付")


def _loans(ledger: Ledger, plans, reported, programmes) -> None:
    """A handful of mid/long-term loans: the bank-loan arrivals reported become releases."""
    rng, today = ledger.rng, ledger.today
    banks = [b for b in data.BANKS]
    candidates = [
        pl
        for pl in plans
        if pl.funding.get(FundingSource.BANK_LOAN, ZERO) > 0 and reported.get((pl.project.pk, "bank_loan"))
    ]
    rng.shuffle(candidates)
    for plan in candidates[:10]:
        p = plan.project
        rows = [r for r in reported[(p.pk, "bank_loan")] if r[2] > 0]
        if not rows:
            continue
        drawn = sum((r[2] for r in rows), ZERO)
        signed = _wan(
            max(float(drawn) * rng.uniform(1.1, 1.6), float(plan.funding[FundingSource.BANK_LOAN]) * 0.5)
        )
        signed = max(signed, drawn)
        on = rows[0][0] - timedelta(days=rng.randint(20, 90))
        bank = rng.choice(banks)
        applied = _wan(float(signed) * rng.uniform(0.008, 0.015)) if rng.random() < 0.7 else ZERO
        granted = (
            min(applied, _wan(float(applied) * rng.uniform(0.6, 1.0)))
            if applied and rng.random() < 0.7
            else ZERO
        )
        loan = Loan(
            project=p,
            programme=programmes["mid_long_loan"],
            bank=bank,
            contract_no=f"{on.year}{rng.randint(1000, 9999)}-YJ{rng.randint(100, 999)}",
            signed_on=on,
            amount_signed=signed,
            term_months=rng.choice((60, 96, 120, 180, 240)),
            subsidy_applied=applied,
            subsidy_granted=granted,
            note="申请中央财政贷款贴息" if applied else "",
            created_by=filler(ledger.city, p),
        )
        ledger.loans.append(loan)
        for ends_on, _report, arrived, _paid in rows:
            ledger.releases.append(
                (
                    loan,
                    LoanRelease(
                        loan=loan,
                        on_date=min(ends_on, today),
                        amount=arrived,
                        note="按工程进度投放",
                        created_by=loan.created_by,
                    ),
                )
            )


def _write(ledger: Ledger) -> None:
    rng, today = ledger.rng, ledger.today
    Allocation.objects.bulk_create(ledger.allocations, batch_size=builder.BATCH)
    for allocation, movement, _ in ledger.movements:
        movement.allocation = allocation
    Movement.objects.bulk_create([m for _, m, _ in ledger.movements], batch_size=builder.BATCH)
    Loan.objects.bulk_create(ledger.loans)
    for loan, release in ledger.releases:
        release.loan = loan
    LoanRelease.objects.bulk_create([r for _, r in ledger.releases])

    def at(day: date):
        return dispatch._at(rng, min(day, today))

    events = []
    for a in ledger.allocations:
        details = {
            "programme": a.programme.name,
            "batch": a.batch,
            "document_no": a.document_no,
            "issued_on": a.issued_on,
            "amount": a.amount,
        }
        events.append(
            _event(
                a.created_by,
                "allocation_create",
                "allocation",
                a.pk,
                str(a),
                a.project,
                _jsonable(details),
                at(a.issued_on + timedelta(days=rng.randint(2, 12))),
            )
        )
    for allocation, m, actor in ledger.movements:
        if m.report_id:
            continue
        details = {"movement": m.pk, "kind": m.kind, "on_date": m.on_date, "amount": m.amount, "note": m.note}
        events.append(
            _event(
                actor,
                f"funds_{m.kind}",
                "allocation",
                allocation.pk,
                str(allocation),
                allocation.project,
                _jsonable(details),
                at(m.on_date),
            )
        )
    for project, programme, made, day, actor in ledger.confirmations:
        if not made:
            continue
        details = {
            "created": [
                {
                    "allocation": m.allocation_id,
                    "report": m.report_id,
                    "on_date": m.on_date,
                    "amount": m.amount,
                }
                for m in made
            ],
            "skipped": [],
        }
        events.append(
            _event(
                actor,
                "funds_confirm_reported",
                "programme",
                programme.pk,
                str(programme),
                project,
                _jsonable(details),
                at(day),
            )
        )
    for loan in ledger.loans:
        details = {
            name: getattr(loan, name)
            for name in (
                "bank",
                "contract_no",
                "signed_on",
                "amount_signed",
                "term_months",
                "subsidy_applied",
                "subsidy_granted",
                "note",
                "programme",
            )
        }
        events.append(
            _event(
                loan.created_by,
                "loan_create",
                "loan",
                loan.pk,
                str(loan),
                loan.project,
                _jsonable(details),
                at(loan.signed_on + timedelta(days=3)),
            )
        )
    for loan, release in ledger.releases:
        details = {"release": release.pk, "on_date": release.on_date, "amount": release.amount}
        events.append(
            _event(
                loan.created_by,
                "loan_release",
                "loan",
                loan.pk,
                str(loan),
                loan.project,
                _jsonable(details),
                at(release.on_date),
            )
        )
    write_events(events)
