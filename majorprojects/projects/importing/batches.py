"""An uploaded ledger's life: uploaded into preview, re-mapped and re-validated, then confirmed
(written all-or-nothing) or discarded. Each batch belongs to the account that uploaded it."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from majorprojects.accounts.scope import can_change_projects
from majorprojects.audit.services import event_record

from ..models import ImportBatch
from .apply import ImportRejected, plan_apply
from .fields import BY_KEY
from .plan import Plan, build_plan
from .reader import ImportFileError, read_sheet


def _require(actor, batch: ImportBatch | None = None) -> None:
    if not can_change_projects(actor):
        raise PermissionDenied("您的账号无权导入项目。")
    if batch is not None:
        if batch.uploaded_by_id != actor.pk:
            raise PermissionDenied("只能处理本人上传的导入批次。")
        if batch.status != ImportBatch.Status.PREVIEW:
            raise ValidationError(f"该批次{batch.get_status_display()}，不能再修改。")


def _plan(actor, batch: ImportBatch, content: bytes | None = None) -> Plan:
    if content is None:
        try:
            with batch.file.open("rb") as f:
                content = f.read()
        except OSError:
            raise ImportFileError("上传的文件已不存在，请重新上传。")
    sheet = read_sheet(
        content,
        name=batch.original_name,
        sheet=batch.mapping.get("sheet"),
        mapping=batch.mapping.get("columns") or None,
    )
    return build_plan(sheet, actor=actor, year=batch.year)


def _failed(message: str, previous: dict) -> dict:
    """A summary for a file (or chosen sheet) that cannot be read at all."""
    return {
        "ok": False,
        "problems": [message],
        "errors": [message],
        "sheets": previous.get("sheets", []),
        "columns": [],
        "rows": [],
        "counts": {},
        "notices": [],
    }


@transaction.atomic
def batch_create(
    *, actor, name: str, content: bytes, year: int | None = None, sheet: str = ""
) -> ImportBatch:
    """Store the upload and its first preview. ImportFileError (nothing stored) when unreadable."""
    _require(actor)
    original = PurePath(name.replace("\\", "/")).name[:200] or "import.xlsx"
    batch = ImportBatch(
        original_name=original, year=year, mapping={"sheet": sheet} if sheet else {}, uploaded_by=actor
    )
    plan = _plan(actor, batch, content)
    batch.mapping["sheet"] = plan.sheet.name
    batch.result = plan.summary()
    batch.file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(content), save=False)
    batch.save()
    return batch


@transaction.atomic
def batch_remap(*, actor, batch: ImportBatch, sheet: str, columns: dict[str, str], year: int) -> ImportBatch:
    """Save the person's column mapping (or another sheet, or year) and validate again."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _require(actor, batch)
    if sheet != batch.mapping.get("sheet"):
        columns = {}  # another sheet has other columns: detect them afresh
    columns = {letter: key for letter, key in columns.items() if key == "" or key in BY_KEY}
    batch.mapping = {"sheet": sheet, "columns": columns}
    batch.year = year
    try:
        batch.result = _plan(actor, batch).summary()
    except ImportFileError as exc:
        batch.result = _failed(exc.message, batch.result)
    batch.save(update_fields=["mapping", "year", "result"])
    return batch


@transaction.atomic
def batch_confirm(*, actor, batch: ImportBatch) -> tuple[bool, dict]:
    """Validate again against today's data and write everything, or nothing.

    Returns (done, result); the result with every error is kept on the batch either way."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _require(actor, batch)
    try:
        plan = _plan(actor, batch)
    except ImportFileError as exc:
        batch.result = _failed(exc.message, batch.result)
        batch.save(update_fields=["result"])
        return False, batch.result
    result = plan.summary()
    try:
        counts = plan_apply(actor=actor, plan=plan)
    except ImportRejected as exc:
        if plan.ok:  # a service refused a row the preview accepted (data changed meanwhile)
            result.update(ok=False, problems=[*result["problems"], *exc.messages])
            result["errors"] = [*exc.messages, *result["errors"]]
        batch.result = result
        batch.save(update_fields=["result"])
        return False, result
    result["applied"] = counts
    batch.result = result
    batch.status = ImportBatch.Status.DONE
    batch.save(update_fields=["result", "status"])
    event_record(actor=actor, verb="project_import", target=batch, details={"year": plan.year, **counts})
    return True, result


@transaction.atomic
def batch_discard(*, actor, batch: ImportBatch) -> None:
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _require(actor, batch)
    batch.status = ImportBatch.Status.DISCARDED
    batch.save(update_fields=["status"])
    event_record(actor=actor, verb="import_discard", target=batch)
