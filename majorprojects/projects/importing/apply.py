"""Commit a validated plan, all rows or none, through the project services (so scope checks,
model validation and one audit event per change happen exactly as for a form)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from majorprojects.audit.services import event_record
from majorprojects.core.errors import ConflictError
from majorprojects.organisation.models import Unit, UnitKind

from .. import services
from .plan import CREATE, UNCHANGED, UPDATE, Plan, RowPlan


class ImportRejected(Exception):
    """Nothing was written; `messages` say why (Chinese, with row numbers)."""

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    if isinstance(exc, ConflictError):
        return exc.message
    return str(exc) or "无权执行此操作。"


@transaction.atomic
def plan_apply(*, actor, plan: Plan) -> dict[str, int]:
    """Create and update the plan's projects. Raises ImportRejected (and rolls everything back)
    if the plan has errors or a service refuses a row."""
    if not plan.ok:
        raise ImportRejected(plan.messages())
    units: dict[tuple[str, int], Unit] = {}
    for row in plan.rows:
        if row.status not in (CREATE, UPDATE):
            continue
        try:
            _apply_row(actor, plan.year, row, units)
        except (ValidationError, PermissionDenied, ConflictError) as exc:
            raise ImportRejected([f"第 {row.row} 行：{_message(exc)}"])
    counts = plan.counts
    return {CREATE: counts[CREATE], UPDATE: counts[UPDATE], UNCHANGED: counts[UNCHANGED]}


def _apply_row(actor, year: int, row: RowPlan, units: dict) -> None:
    fields = dict(row.fields)
    if row.new_unit:
        if row.new_unit not in units:
            units[row.new_unit] = _unit_create(actor, *row.new_unit)
        fields["owner_unit"] = units[row.new_unit]
    if row.project is None:
        project = services.project_create(actor=actor, fields=fields, tags=row.tags)
    else:
        project = row.project
        if fields or row.tags is not None:
            project = services.project_update(
                actor=actor, project=project, fields=fields, tags=row.tags, expected_version=row.version
            )
    for stage, on_date in row.transitions:
        project = services.project_transition(
            actor=actor,
            project=project,
            stage=stage,
            on_date=on_date,
            note=f"台账导入（第 {row.row} 行）" if row.backwards else "",
        )
    if row.listing:
        services.listing_save(actor=actor, project=project, year=year, **row.listing)


def _unit_create(actor, name: str, region_id: int) -> Unit:
    """An owner the ledger names that the platform does not know yet: an enterprise unit."""
    unit = Unit(name=name, kind=UnitKind.ENTERPRISE, region_id=region_id)
    unit.full_clean()
    unit.save()
    event_record(actor=actor, verb="unit_create", target=unit, details={"source": "import"})
    return unit
