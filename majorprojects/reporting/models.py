"""Dispatch (调度): reporting schedules, periods, progress reports, their funds and photos, and
correction requests after a period is locked. SPEC C4."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from majorprojects.projects.models import MONEY, FundingSource


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "月调度"
    QUARTERLY = "quarterly", "季调度"
    WEEKLY = "weekly", "周调度"


class Schedule(models.Model):
    """Who reports how often and by when. Data, edited by the city admin.

    A project belongs to the first active monthly/quarterly schedule (by `order`) that matches it;
    weekly schedules come on top (they carry progress and statistics status, never money, so
    nothing is counted twice)."""

    name = models.CharField("名称", max_length=50, unique=True)
    frequency = models.CharField("频次", max_length=20, choices=Frequency.choices)
    list_kinds = models.JSONField(
        "适用库别", default=list, blank=True, help_text="年度清单库别，空表示不限；“unlisted”表示未列入清单"
    )
    stages = models.JSONField("适用阶段", default=list, blank=True, help_text="空表示不限")
    stats_pending_only = models.BooleanField("仅限已开工未入统项目", default=False)
    due_day = models.PositiveSmallIntegerField(
        "截止日", default=28, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    december_due_day = models.PositiveSmallIntegerField(
        "12月截止日", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    due_weekday = models.PositiveSmallIntegerField(
        "周报截止（星期，1=周一）", default=5, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    shift_holidays = models.BooleanField("截止日遇法定节假日顺延至下一工作日", default=True)
    grace_days = models.PositiveSmallIntegerField("宽限天数（宽限期内报送不计迟报）", default=0)
    jump_multiple = models.DecimalField(
        "单期投资超过月均的倍数须说明",
        max_digits=6,
        decimal_places=2,
        default=Decimal("3"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    remaining_share = models.DecimalField(
        "单期投资超过剩余投资的比例须说明",
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )
    order = models.PositiveSmallIntegerField("优先顺序", default=10)
    is_active = models.BooleanField("启用", default=True)
    starts_on = models.DateField("启用日期", help_text="不早于此日期的期次才会开启")

    class Meta:
        verbose_name = "调度安排"
        verbose_name_plural = "调度安排"
        ordering = ["order", "id"]

    def __str__(self):
        return self.name

    @property
    def carries_investment(self) -> bool:
        return self.frequency != Frequency.WEEKLY


class Period(models.Model):
    """One reporting period of one schedule (2026年10月, 2026年第3季度, 2026年第47周)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="periods")
    frequency = models.CharField("频次", max_length=20, choices=Frequency.choices)
    year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveSmallIntegerField("期号", help_text="月份、季度或周次")
    label = models.CharField("期次", max_length=30)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期", db_index=True)
    due_on = models.DateField("截止日期")
    late_after = models.DateField("迟报起算", help_text="截止日加宽限期；晚于此日报送计为迟报")
    opened_at = models.DateTimeField("开启时间", auto_now_add=True)
    locked_at = models.DateTimeField("锁定时间", null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "调度期次"
        verbose_name_plural = "调度期次"
        ordering = ["-ends_on", "schedule__order"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "starts_on"], name="period_schedule_start_unique")
        ]

    def __str__(self):
        return self.label

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def carries_investment(self) -> bool:
        return self.frequency != Frequency.WEEKLY


class Status(models.TextChoices):
    PENDING = "pending", "待填报"
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已审核"
    LOCKED = "locked", "已锁定"


# Reports whose figures count in aggregates: sent and not sent back.
COUNTED = (Status.SUBMITTED, Status.APPROVED, Status.LOCKED)
# Reports the filler may still edit.
EDITABLE = (Status.PENDING, Status.DRAFT, Status.RETURNED)


class Report(models.Model):
    """A project's report for one period (调度表). Year-to-date and since-start totals are derived
    by services.report_totals and stored, never typed."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="reports")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="reports", verbose_name="项目"
    )
    # Copied from the period so money aggregates read one table with one index.
    period_end = models.DateField(editable=False)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    investment = models.DecimalField(
        "本期完成投资（万元）",
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        **MONEY,
    )
    year_to_date = models.DecimalField("本年累计完成（万元）", default=Decimal(0), editable=False, **MONEY)
    since_start = models.DecimalField("开工累计完成（万元）", default=Decimal(0), editable=False, **MONEY)
    progress = models.TextField("形象进度", blank=True)
    percent_complete = models.DecimalField(
        "工程完成比例（%）",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    started_on = models.DateField("开工日期", null=True, blank=True)
    structure_done_on = models.DateField("主体完工日期", null=True, blank=True)
    completed_on = models.DateField("竣工日期", null=True, blank=True)
    operating_on = models.DateField("投产日期", null=True, blank=True)
    stats_included = models.BooleanField("已入统", null=True, blank=True)
    stats_date = models.DateField("入统日期", null=True, blank=True)
    problems = models.TextField("存在问题", blank=True)
    next_plan = models.TextField("下期计划", blank=True)
    note = models.TextField("情况说明", blank=True, help_text="单期投资明显偏大等异常情况须说明")
    return_reason = models.TextField("退回原因", blank=True)
    version = models.PositiveIntegerField(default=1)
    last_key = models.CharField(max_length=64, blank=True, editable=False)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    is_late = models.BooleanField("迟报", default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "调度报表"
        verbose_name_plural = "调度报表"
        ordering = ["-period_end", "project_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "project"], name="report_period_project_unique"),
            models.CheckConstraint(
                condition=models.Q(investment__gte=0) | models.Q(investment__isnull=True),
                name="report_investment_nonnegative",
            ),
        ]
        indexes = [
            models.Index(fields=["period_end", "status", "project"], name="report_month_idx"),
            models.Index(fields=["project", "period_end"], name="report_project_idx"),
            models.Index(fields=["period", "status"], name="report_period_status_idx"),
        ]

    def __str__(self):
        return f"{self.project} · {self.period}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE and not self.period.is_locked


class ReportFunds(models.Model):
    """Funds that arrived and were paid this period, by source (资金到位/支付)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="funds")
    source = models.CharField("资金来源", max_length=30, choices=FundingSource.choices)
    arrived = models.DecimalField(
        "本期到位（万元）", default=Decimal(0), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    paid = models.DecimalField(
        "本期支付（万元）", default=Decimal(0), validators=[MinValueValidator(Decimal(0))], **MONEY
    )

    class Meta:
        verbose_name = "本期资金"
        constraints = [models.UniqueConstraint(fields=["report", "source"], name="report_funds_unique")]

    def __str__(self):
        return f"{self.get_source_display()} 到位{self.arrived} 支付{self.paid}"


class ReportPhoto(models.Model):
    """A progress photo: stored as a project attachment (scoped download), linked to the report."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    attachment = models.OneToOneField(
        "projects.Attachment", on_delete=models.CASCADE, related_name="report_photo"
    )

    class Meta:
        verbose_name = "形象进度照片"

    def __str__(self):
        return str(self.attachment)


class Correction(models.Model):
    """A request to change a locked report. The city approves; the original and corrected values
    stay here (and in the event rows)."""

    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="corrections")
    changes = models.JSONField("更正内容", help_text="{字段: [原值, 新值]}")
    reason = models.TextField("更正理由")
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "更正申请"
        verbose_name_plural = "更正申请"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["report"],
                condition=models.Q(state="pending"),
                name="correction_one_pending_per_report",
            )
        ]

    def __str__(self):
        return f"{self.report} 更正"


def _month_field(month: int) -> models.DecimalField:
    return models.DecimalField(f"{month}月", default=Decimal(0), **MONEY)


class YearDone(models.Model):
    """Counted money of one project in one year, month by month (a quarterly report counts in
    its last month): the sums of the amounts of sent reports (submitted, approved, locked).

    Kept by reporting.totals in the same transaction as every change of what counts (submit,
    return, correction), and rebuilt from the reports by `manage.py rebuild_dispatch_totals`.
    It lets the month's figures read one row per project and year instead of every report: at
    province scale (50,000 projects × 60 months) that is 100,000 rows instead of 1.1 million."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="year_done")
    year = models.PositiveSmallIntegerField("年度")
    m1 = _month_field(1)
    m2 = _month_field(2)
    m3 = _month_field(3)
    m4 = _month_field(4)
    m5 = _month_field(5)
    m6 = _month_field(6)
    m7 = _month_field(7)
    m8 = _month_field(8)
    m9 = _month_field(9)
    m10 = _month_field(10)
    m11 = _month_field(11)
    m12 = _month_field(12)

    class Meta:
        verbose_name = "年度分月完成投资"
        constraints = [models.UniqueConstraint(fields=["year", "project"], name="year_done_unique")]

    def __str__(self):
        return f"{self.project_id} {self.year}"
