"""Every state change on projects: create, update, stage transitions, listings, campaigns,
attachments. Each runs in one transaction, checks scope, and writes one event row."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from majorprojects.accounts.models import Role
from majorprojects.accounts.scope import allowed_regions, can_change_projects, can_manage_listings, project_q
from majorprojects.audit.services import diff, event_record
from majorprojects.core.errors import ConflictError

from .models import (
    STAGE_ORDER,
    AnnualListing,
    Attachment,
    AttachmentKind,
    Campaign,
    CampaignMembership,
    Project,
    ProjectFunding,
    Stage,
    Tag,
)

PROJECT_FIELDS = [
    "name",
    "code",
    "owner_unit",
    "region",
    "address",
    "longitude",
    "latitude",
    "sector",
    "industry",
    "content",
    "approval_regime",
    "start_year",
    "end_year",
    "total_investment",
    "is_private_investment",
    "is_high_tech",
    "package_leader",
    "responsible_department",
    "contact_name",
    "contact_phone",
    "work_group",
    "planned_start_date",
    "planned_completion_date",
    "parent",
    "is_package",
]
# The foreign keys among PROJECT_FIELDS (`<name>_id` in the API; full_clean exclusions in import).
PROJECT_FK_FIELDS = tuple(name for name in PROJECT_FIELDS if Project._meta.get_field(name).is_relation)
PRE_START_STAGES = {Stage.CONCEIVED, Stage.RESERVED, Stage.PREPARING, Stage.SIGNED}
LISTING_FIELDS = [
    "list_kind",
    "key_level",
    "planned_investment",
    "planned_start",
    "planned_completion",
    "is_new_start",
    "target",
]


def _require_change(actor, project: Project | None = None) -> None:
    if not can_change_projects(actor):
        raise PermissionDenied("您的账号无权修改项目。")
    if (
        project is not None
        and project.pk
        and not Project.objects.filter(project_q(actor, change=True), pk=project.pk).exists()
    ):
        raise PermissionDenied("项目不存在或无权访问。")


def _check_placement(actor, project: Project) -> None:
    """The saved project must stay inside what the actor may see (a county cannot move a project
    to another county; a project unit cannot give its project to another owner)."""
    errors = {}
    if project.region_id and not allowed_regions(actor).filter(pk=project.region_id).exists():
        errors["region"] = "所选区域不在您的管辖范围内。"
    if (
        actor.role == Role.PROJECT_UNIT
        and project.owner_unit_id != actor.unit_id
        and not (project.parent_id and project.parent.owner_unit_id == actor.unit_id)
    ):
        errors["owner_unit"] = "项目单位只能登记本单位的项目。"
    if actor.role == Role.DEPARTMENT and not project.responsible_department_id:
        project.responsible_department_id = actor.unit_id
    if project.parent_id:
        parent = project.parent
        if parent.parent_id:
            errors["parent"] = "子项目不能再作为打包项目。"
        elif not parent.is_package:
            errors["parent"] = f"“{parent.name}”不是打包项目。"
        elif project.pk and project.is_package:
            errors["parent"] = "打包项目不能再属于另一个打包项目。"
    if errors:
        raise ValidationError(errors)


def _set_tags(project: Project, tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    names = sorted({t.strip()[:30] for t in tags if t and t.strip()})
    project.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])
    return names


def _set_fundings(project: Project, fundings: dict[str, Decimal] | None) -> dict | None:
    if fundings is None:
        return None
    clean = {source: amount for source, amount in fundings.items() if amount}
    total = sum(clean.values(), Decimal(0))
    if total > project.total_investment:
        raise ValidationError(
            {"total_investment": f"资金来源合计 {total} 万元超过总投资 {project.total_investment} 万元。"}
        )
    ProjectFunding.objects.filter(project=project).exclude(source__in=clean).delete()
    for source, amount in clean.items():
        ProjectFunding.objects.update_or_create(project=project, source=source, defaults={"amount": amount})
    return {k: str(v) for k, v in clean.items()}


def package_recalculate(package: Project | None) -> None:
    """A package with sub-projects holds their sums: total investment, and for every year in which
    a sub-project is listed, the planned investment of the package's own listing (created when
    missing). Years in which no sub-project is listed count zero. A package without sub-projects
    keeps its own figures."""
    if package is None or not package.children.exists():
        return
    total = package.children.aggregate(s=Sum("total_investment"))["s"] or Decimal(0)
    Project.objects.filter(pk=package.pk).update(total_investment=total)
    by_year = {
        row["year"]: row
        for row in AnnualListing.objects.filter(project__parent=package)
        .values("year")
        .annotate(s=Sum("planned_investment"), kind=Max("list_kind"))
    }
    for year, row in by_year.items():
        listing, created = AnnualListing.objects.get_or_create(
            project=package,
            year=year,
            defaults={"list_kind": row["kind"], "planned_investment": row["s"]},
        )
        if not created and listing.planned_investment != row["s"]:
            listing.planned_investment = row["s"]
            listing.save(update_fields=["planned_investment"])
    AnnualListing.objects.filter(project=package).exclude(year__in=by_year).exclude(
        planned_investment=0
    ).update(planned_investment=0)


@transaction.atomic
def project_create(
    *, actor, fields: dict, tags: list[str] | None = None, fundings: dict[str, Decimal] | None = None
) -> Project:
    _require_change(actor)
    project = Project(
        created_by=actor if actor.pk else None, **{k: v for k, v in fields.items() if k in PROJECT_FIELDS}
    )
    if actor.role == Role.PROJECT_UNIT and not project.owner_unit_id:
        project.owner_unit_id = actor.unit_id
    project.stage = fields.get("stage") or Stage.RESERVED
    if project.stage not in PRE_START_STAGES:
        raise ValidationError(
            {
                "stage": "新登记的项目只能处于谋划、储备、前期或签约阶段；开工、竣工请登记后通过阶段变更填写实际日期。"
            }
        )
    _check_placement(actor, project)
    project.full_clean()
    project.save()
    _set_tags(project, tags)
    _set_fundings(project, fundings)
    if project.stage == Stage.PREPARING:
        _approval_ledger(project, actor)
    package_recalculate(project.parent)
    event_record(
        actor=actor,
        verb="project_create",
        target=project,
        project=project,
        details={"total_investment": project.total_investment, "region": str(project.region)},
    )
    return project


@transaction.atomic
def project_update(
    *,
    actor,
    project: Project,
    fields: dict,
    expected_version: int | None = None,
    tags: list[str] | None = None,
    fundings: dict[str, Decimal] | None = None,
) -> Project:
    _require_change(actor, project)
    version = project.version if expected_version is None else expected_version
    if Project.objects.filter(pk=project.pk, version=version).update(version=F("version") + 1) != 1:
        raise ConflictError()
    project = Project.objects.select_for_update().get(pk=project.pk)
    old_parent = project.parent
    before = {name: getattr(project, name) for name in PROJECT_FIELDS}
    for name, value in fields.items():
        if name in PROJECT_FIELDS:
            setattr(project, name, value)
    _check_placement(actor, project)
    project.full_clean()
    changed = list(diff(project, before, PROJECT_FIELDS))
    project.save(update_fields=[*changed, "updated_at"] if changed else ["updated_at"])
    details = diff(project, before, PROJECT_FIELDS)
    tag_names = _set_tags(project, tags)
    if tag_names is not None:
        details["tags"] = tag_names
    funding_map = _set_fundings(project, fundings)
    if funding_map is not None:
        details["funding"] = funding_map
    if not Project.objects.filter(project_q(actor, change=True), pk=project.pk).exists():
        raise ValidationError("保存后该项目将超出您的管辖范围，请检查区域、单位或责任部门。")
    package_recalculate(project.parent)
    if old_parent and old_parent != project.parent:
        package_recalculate(old_parent)
    package_recalculate(project)  # a package's own figures stay the sums of its sub-projects
    event_record(actor=actor, verb="project_update", target=project, project=project, details=details)
    return project


def _stage_index(stage: str) -> int:
    return STAGE_ORDER.index(stage)


@transaction.atomic
def _approval_ledger(project: Project, actor) -> None:
    """A project entering the preliminary stage gets its regime's approval items (idempotent;
    the nightly scan_approvals catches projects that arrived by import)."""
    from majorprojects.approvals.services import ledger_apply_templates

    ledger_apply_templates(project, actor)


def project_transition(
    *, actor, project: Project, stage: str, on_date: date | None = None, note: str = ""
) -> Project:
    """Move a project along its lifecycle. Start and completion record actual dates; going back
    is a correction only the city admin makes, with a reason."""
    _require_change(actor, project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if stage not in STAGE_ORDER:
        raise ValidationError({"stage": "未知的阶段。"})
    if stage == project.stage:
        raise ValidationError({"stage": f"项目已处于“{project.get_stage_display()}”阶段。"})
    today = timezone.localdate()
    if on_date and on_date > today:
        raise ValidationError({"on_date": "日期不能晚于今天。"})
    backwards = _stage_index(stage) < _stage_index(project.stage)
    if backwards:
        if actor.role != Role.CITY_ADMIN:
            raise PermissionDenied("阶段回退须由市级管理员操作。")
        if not note.strip():
            raise ValidationError({"note": "阶段回退须填写原因。"})
    before = {
        "stage": project.stage,
        "actual_start_date": project.actual_start_date,
        "actual_completion_date": project.actual_completion_date,
    }
    idx = _stage_index(stage)
    if idx >= _stage_index(Stage.CONSTRUCTION) and not project.actual_start_date:
        if stage != Stage.CONSTRUCTION:
            raise ValidationError({"stage": "项目尚未开工，不能直接标记为竣工或投产。"})
        if not on_date:
            raise ValidationError({"on_date": "请填写实际开工日期。"})
        project.actual_start_date = on_date
    if stage == Stage.COMPLETED:
        if not on_date:
            raise ValidationError({"on_date": "请填写实际竣工日期。"})
        if on_date < project.actual_start_date:
            raise ValidationError({"on_date": "竣工日期不能早于实际开工日期。"})
        project.actual_completion_date = on_date
    if stage == Stage.OPERATING and not project.actual_completion_date:
        raise ValidationError({"stage": "项目尚未竣工，不能标记为投产达效。"})
    if backwards:
        if idx < _stage_index(Stage.CONSTRUCTION):
            project.actual_start_date = None
        if idx < _stage_index(Stage.COMPLETED):
            project.actual_completion_date = None
    project.stage = stage
    project.version += 1
    project.save(
        update_fields=["stage", "actual_start_date", "actual_completion_date", "version", "updated_at"]
    )
    if stage == Stage.PREPARING:
        _approval_ledger(project, actor)
    event_record(
        actor=actor,
        verb="stage_change",
        target=project,
        project=project,
        details={
            "from": before["stage"],
            "to": stage,
            "date": on_date,
            "note": note.strip(),
            **diff(project, before, ["actual_start_date", "actual_completion_date"]),
        },
    )
    return project


@transaction.atomic
def listing_save(*, actor, project: Project, year: int, **fields) -> AnnualListing:
    """Put a project on a year's lists, or change that year's listing."""
    _require_change(actor, project)
    if not can_manage_listings(actor):
        raise PermissionDenied("年度清单由县市区、行业部门或市级管理员维护。")
    listing = AnnualListing.objects.select_for_update().filter(project=project, year=year).first()
    created = listing is None
    listing = listing or AnnualListing(project=project, year=year)
    before = {name: getattr(listing, name) for name in LISTING_FIELDS}
    for name, value in fields.items():
        if name in LISTING_FIELDS:
            setattr(listing, name, value)
    if listing.planned_investment is not None and listing.planned_investment > project.total_investment:
        raise ValidationError({"planned_investment": "年度计划投资不能超过项目总投资。"})
    if (
        listing.planned_start
        and listing.planned_completion
        and listing.planned_completion < listing.planned_start
    ):
        raise ValidationError({"planned_completion": "计划竣工不能早于计划开工。"})
    listing.full_clean(validate_unique=False)
    listing.save()
    package_recalculate(project.parent)
    package_recalculate(project)
    event_record(
        actor=actor,
        verb="listing_create" if created else "listing_update",
        target=listing,
        project=project,
        target_label=f"{year}年度清单",
        details=diff(listing, before, LISTING_FIELDS),
    )
    return listing


@transaction.atomic
def listing_delete(*, actor, listing: AnnualListing) -> None:
    _require_change(actor, listing.project)
    if not can_manage_listings(actor):
        raise PermissionDenied("年度清单由县市区、行业部门或市级管理员维护。")
    project, year = listing.project, listing.year
    listing.delete()
    package_recalculate(project.parent)
    event_record(
        actor=actor,
        verb="listing_delete",
        target_type="annuallisting",
        project=project,
        target_label=f"{year}年度清单",
    )


@transaction.atomic
def membership_set(*, actor, project: Project, campaign: Campaign, batch: str = "") -> CampaignMembership:
    _require_change(actor, project)
    if not can_manage_listings(actor):
        raise PermissionDenied("专项活动名单由县市区、行业部门或市级管理员维护。")
    membership, created = CampaignMembership.objects.update_or_create(
        campaign=campaign, project=project, defaults={"batch": batch}
    )
    event_record(
        actor=actor,
        verb="campaign_join" if created else "campaign_update",
        target=campaign,
        project=project,
        details={"batch": batch},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: CampaignMembership) -> None:
    _require_change(actor, membership.project)
    if not can_manage_listings(actor):
        raise PermissionDenied("专项活动名单由县市区、行业部门或市级管理员维护。")
    project, campaign = membership.project, membership.campaign
    membership.delete()
    event_record(actor=actor, verb="campaign_leave", target=campaign, project=project)


# --- Attachments --------------------------------------------------------------------------

# Allowed types: extension → (content type, magic-byte prefixes). The content is sniffed; the
# browser's declared type and the file name alone are never trusted.
ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
}
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png"}


def check_attachment(name: str, content: bytes, kind: str) -> tuple[str, str]:
    """(extension, content type) for an acceptable upload, else a Chinese ValidationError."""
    ext = PurePath(name).suffix.lower()
    if not content:
        raise ValidationError({"file": "文件为空。"})
    if len(content) > settings.ATTACHMENT_MAX_BYTES:
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"file": f"文件超过 {limit} MB 的上限。"})
    if ext not in ATTACHMENT_TYPES:
        raise ValidationError({"file": "仅支持 PDF、JPG、PNG、Word（doc/docx）、Excel（xls/xlsx）文件。"})
    content_type, magics = ATTACHMENT_TYPES[ext]
    if not content.startswith(magics):
        raise ValidationError({"file": f"文件内容与扩展名 {ext} 不符，请上传真实的{ext[1:].upper()}文件。"})
    if kind == AttachmentKind.PHOTO and ext not in PHOTO_EXTENSIONS:
        raise ValidationError({"file": "形象进度照片须为 JPG 或 PNG 图片。"})
    return ext, content_type


@transaction.atomic
def attachment_add(
    *, actor, project: Project, name: str, content: bytes, kind: str, description: str = ""
) -> Attachment:
    _require_change(actor, project)
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": "请选择附件类型。"})
    ext, content_type = check_attachment(name, content, kind)
    digest = hashlib.sha256(content).hexdigest()
    original = PurePath(name.replace("\\", "/")).name[:200] or f"附件{ext}"
    attachment = Attachment(
        project=project,
        kind=kind,
        original_name=original,
        extension=ext,
        content_type=content_type,
        size=len(content),
        sha256=digest,
        description=description[:200],
        uploaded_by=actor,
    )
    attachment.file.save(f"{digest}{ext}", ContentFile(content), save=False)
    attachment.save()
    event_record(
        actor=actor,
        verb="attachment_add",
        target=attachment,
        project=project,
        details={"kind": kind, "size": len(content), "sha256": digest},
    )
    return attachment


@transaction.atomic
def attachment_delete(*, actor, attachment: Attachment) -> None:
    project = attachment.project
    _require_change(actor, project)
    if actor.role == Role.PROJECT_UNIT and attachment.uploaded_by_id != actor.pk:
        raise PermissionDenied("只能删除本人上传的附件。")
    name, stored = attachment.original_name, attachment.file.name
    still_used = Attachment.objects.filter(file=stored).exclude(pk=attachment.pk).exists()
    attachment.delete()
    if not still_used:
        transaction.on_commit(lambda: attachment.file.storage.delete(stored))
    event_record(
        actor=actor, verb="attachment_delete", target_type="attachment", project=project, target_label=name
    )
