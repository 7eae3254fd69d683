"""The problem ledger (问题台账, SPEC C7): a problem raised on a project is analysed, assigned with
the five in place (五到位), handled with progress notes, resolved by the lead unit and closed
(销号) once the reporter is satisfied — or by the city with a recorded reason. Overdue items are
supervised (一通报两约谈) by `manage.py escalate_problems`. States: docs/problems.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from majorprojects.organisation.models import UnitKind
from majorprojects.projects.models import StoredFile


class Category(models.Model):
    """Problem category (资金, 用地, 用林 …); configurable, seeded by a data migration."""

    code = models.CharField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "问题类别"
        verbose_name_plural = "问题类别"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class Source(models.TextChoices):
    REPORT = "report", "调度报表"
    PROJECT_UNIT = "project_unit", "项目单位反映"
    COUNTY = "county", "县市区反映"
    DEPARTMENT = "department", "行业部门反映"
    CITY = "city", "市级专班"
    VISIT = "visit", "走访收集"


class Urgency(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"
    CRITICAL = "critical", "特急"


class Status(models.TextChoices):
    REPORTED = "reported", "待研判"
    ACCEPTED = "accepted", "待交办"
    ASSIGNED = "assigned", "办理中"
    REOPENED = "reopened", "重新办理"
    RESOLVED = "resolved", "待确认"
    CLOSED = "closed", "已销号"
    MERGED = "merged", "已合并"
    SPLIT = "split", "已分解"


# Before assignment: the city (or county) analyses.
ANALYSIS = (Status.REPORTED, Status.ACCEPTED)
# With the lead unit: progress notes, extension requests, resolution; deadlines run.
HANDLING = (Status.ASSIGNED, Status.REOPENED)
# Still to be closed.
OPEN = (Status.REPORTED, Status.ACCEPTED, Status.ASSIGNED, Status.REOPENED, Status.RESOLVED)
# Folded into other items: not counted in figures (the target item or the sub-items are).
FOLDED = (Status.MERGED, Status.SPLIT)


# Units that handle problems (lead and co-units, coordination tasks): government departments,
# county governments, banks and others — not the enterprises that own projects (they raise
# problems; they are not assigned them).
HANDLING_KINDS = (UnitKind.DEPARTMENT, UnitKind.GOVERNMENT, UnitKind.BANK, UnitKind.OTHER)


class Level(models.TextChoices):
    """Who analyses and assigns: the city, or a county for problems within its power."""

    CITY = "city", "市级"
    COUNTY = "county", "县级"


class CloseKind(models.TextChoices):
    SATISFIED = "satisfied", "满意销号"
    CITY = "city", "市级决定销号"
    SUB_ITEMS = "sub_items", "分解事项全部销号"


class Problem(models.Model):
    project = models.ForeignKey(
        "projects.Project", verbose_name="项目", on_delete=models.CASCADE, related_name="problems"
    )
    other_projects = models.ManyToManyField(
        "projects.Project", verbose_name="其他涉及项目", blank=True, related_name="shared_problems"
    )
    title = models.CharField("问题概述", max_length=100)
    category = models.ForeignKey(
        Category, verbose_name="问题类别", on_delete=models.PROTECT, related_name="problems"
    )
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    description = models.TextField("问题描述")
    request = models.TextField("诉求", blank=True)
    urgency = models.CharField("紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(
        "状态", max_length=20, choices=Status.choices, default=Status.REPORTED, db_index=True
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="反映人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="raised_problems",
    )
    raising_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="反映单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="raised_problems",
    )
    region = models.ForeignKey(
        "organisation.Region", verbose_name="所在区域", on_delete=models.PROTECT, related_name="problems"
    )
    report = models.OneToOneField(
        "reporting.Report",
        verbose_name="来源调度表",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_problem",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="分解自",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sub_items",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="合并至",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_items",
    )
    # Analysis
    level = models.CharField("研判层级", max_length=10, choices=Level.choices, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    # The five in place (五到位)
    lead_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="牵头单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_problems",
    )
    co_units = models.ManyToManyField(
        "organisation.Unit", verbose_name="配合单位", blank=True, related_name="co_problems"
    )
    leader = models.ForeignKey(
        "organisation.Person",
        verbose_name="责任领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    responsible_name = models.CharField("责任人", max_length=50, blank=True)
    responsible_phone = models.CharField("责任人电话", max_length=30, blank=True)
    solution = models.TextField("解决方案", blank=True)
    deadline = models.DateField("办理时限", null=True, blank=True, db_index=True)
    deadline_workdays = models.PositiveSmallIntegerField(
        "时限（工作日）", null=True, blank=True, help_text="按工作日交办时的天数；日期按法定工作日推算"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField("交办时间", null=True, blank=True)
    first_reply_due = models.DateField("首次答复期限", null=True, blank=True)
    first_reply_at = models.DateTimeField("首次答复时间", null=True, blank=True)
    last_progress_at = models.DateTimeField("最近进展时间", null=True, blank=True)
    # Resolution and closure
    resolution = models.TextField("办理结果", blank=True)
    resolved_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    close_kind = models.CharField("销号方式", max_length=20, choices=CloseKind.choices, blank=True)
    close_reason = models.TextField("销号理由", blank=True)
    reopen_count = models.PositiveSmallIntegerField("重新办理次数", default=0)
    # Supervision (一通报两约谈)
    notice_count = models.PositiveSmallIntegerField("通报次数", default=0)
    escalation_level = models.PositiveSmallIntegerField("督办等级", default=0, db_index=True)
    escalated_to = models.ForeignKey(
        "organisation.Person",
        verbose_name="提级协调领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalated_problems",
    )
    version = models.PositiveIntegerField(default=1)
    raise_key = models.CharField(max_length=64, blank=True, editable=False)
    last_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("反映时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "问题"
        verbose_name_plural = "问题台账"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["lead_unit", "status"]),
            models.Index(fields=["category", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["raised_by", "raise_key"],
                condition=~models.Q(raise_key=""),
                name="problem_raise_key_unique",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class ProgressNote(models.Model):
    """A progress report by the lead unit or a co-unit (办理进展)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="notes")
    unit = models.ForeignKey(
        "organisation.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("进展情况")
    is_lead = models.BooleanField("牵头单位", default=False)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "办理进展"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.unit}：{self.text[:30]}"


class Extension(models.Model):
    """A request by the lead unit for a later deadline; only the assigner's side decides, and only
    while the problem is in handling. A request still pending when the problem is resolved or
    closed is cancelled (已作废) by that step."""

    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已同意"
        REJECTED = "rejected", "不同意"
        CANCELLED = "cancelled", "已作废"

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="extensions")
    previous_deadline = models.DateField("原时限")
    requested_date = models.DateField("申请延至")
    reason = models.TextField("延期理由")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "延期申请"
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem"], condition=models.Q(state="pending"), name="one_pending_extension"
            ),
        ]

    def __str__(self):
        return f"{self.problem} 延至 {self.requested_date}"


class Confirmation(models.Model):
    """The reporter's verdict on a resolution: satisfied closes, not satisfied reopens."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="confirmations")
    satisfied = models.BooleanField("满意")
    reason = models.TextField("意见", blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "办理结果确认"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.problem}：{'满意' if self.satisfied else '不满意'}"


class Reason(models.TextChoices):
    OVERDUE = "overdue", "逾期未办结"
    FIRST_REPLY = "first_reply", "首次答复超期"
    PROGRESS = "progress", "当月未报进展"


class Escalation(models.Model):
    """One supervision record per problem, reason and period (month): reruns of the command find
    the row and add nothing. Overdue notices climb the ladder (level); the other two are flags."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="escalations")
    reason = models.CharField("事由", max_length=20, choices=Reason.choices)
    period = models.DateField("期间", help_text="月份的第一天")
    notice_number = models.PositiveSmallIntegerField("第几次通报", default=0)
    level = models.PositiveSmallIntegerField("督办等级", default=0)
    deadline = models.DateField("当时时限", null=True, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "督办记录"
        ordering = ["period", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "reason", "period"], name="escalation_once_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.problem} {self.get_reason_display()} {self.period:%Y-%m}"


class Coordination(models.Model):
    """A hard problem escalated by hand to a named leader (分管副市长) for a coordination meeting."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="coordinations")
    leader = models.ForeignKey(
        "organisation.Person", verbose_name="协调领导", on_delete=models.PROTECT, related_name="coordinations"
    )
    reason = models.TextField("提级理由")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("提级时间", auto_now_add=True)
    meeting_date = models.DateField("协调会日期", null=True, blank=True)
    minutes = models.TextField("会议纪要", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "提级协调"
        ordering = ["requested_at", "id"]

    def __str__(self):
        return f"{self.problem} → {self.leader}"


class CoordinationTask(models.Model):
    """A decision of a coordination meeting: what, by which unit, by when."""

    coordination = models.ForeignKey(Coordination, on_delete=models.CASCADE, related_name="tasks")
    text = models.TextField("议定事项")
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="责任单位",
        on_delete=models.PROTECT,
        related_name="coordination_tasks",
    )
    due_date = models.DateField("完成时限")
    done = models.BooleanField("已完成", default=False)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "议定事项"
        ordering = ["due_date", "id"]

    def __str__(self):
        return self.text[:50]


def attachment_path(instance, filename):
    return f"problems/{instance.problem_id}/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


class ProblemAttachment(StoredFile):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)

    class Meta(StoredFile.Meta):
        verbose_name = "问题附件"
