"""Warnings (预警, SPEC C6): red/yellow lights on projects and regions from rules that are data,
the negative list, and the rectification workflow. The metrics are in alerts.metrics, the rule
engine in alerts.engine; docs/alerts.md."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from majorprojects.projects.models import MONEY


class RegionTarget(models.Model):
    """A county's (or zone's) investment target for a year, as the city's campaign notice sets it:
    the growth rate of fixed-asset investment in projects over last year and, optionally, the
    amount to complete. Read by the region metrics "growth against target"."""

    region = models.ForeignKey(
        "organisation.Region",
        verbose_name="区域",
        on_delete=models.CASCADE,
        related_name="investment_targets",
    )
    year = models.PositiveSmallIntegerField("年度")
    growth_pct = models.DecimalField(
        "投资增长目标（%）", max_digits=6, decimal_places=2, null=True, blank=True
    )
    investment = models.DecimalField("年度完成投资目标（万元）", null=True, blank=True, **MONEY)
    note = models.CharField("依据", max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "区域投资目标"
        verbose_name_plural = "区域投资目标"
        ordering = ["year", "region__sort_order", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="region_target_unique"),
            models.CheckConstraint(
                condition=models.Q(investment__isnull=True) | models.Q(investment__gte=Decimal(0)),
                name="region_target_investment_nonnegative",
            ),
        ]

    def __str__(self):
        return f"{self.region} {self.year}年投资目标"


# --- Rules, warnings, exemptions ------------------------------------------------------------
# docs/alerts.md explains every field; alerts.rules validates rule files against the same rules
# as Rule.clean, alerts.engine turns rules into warnings, alerts.services runs the workflow.

THRESHOLD = {"max_digits": 14, "decimal_places": 4}


class Subject(models.TextChoices):
    PROJECT = "project", "项目"
    REGION = "region", "区域"


class Light(models.TextChoices):
    YELLOW = "yellow", "黄灯"
    RED = "red", "红灯"


GREEN = "green"  # no warning: a light, never stored
LIGHT_RANK = {GREEN: 0, Light.YELLOW: 1, Light.RED: 2}


class Approver(models.TextChoices):
    CITY = "city", "市级（综合专班）"
    COUNTY = "county", "县市区"


class Rule(models.Model):
    """One lighting rule (预警规则): which subjects, which metric, the thresholds, the consecutive
    conditions, the grace and the exemption. Edited by the city admin, exported and imported as
    a JSON rule file (alerts.rules)."""

    code = models.SlugField("规则代码", max_length=50, unique=True)
    name = models.CharField("规则名称", max_length=100)
    description = models.TextField("说明", blank=True)
    subject = models.CharField("对象", max_length=10, choices=Subject.choices, default=Subject.PROJECT)
    metric = models.CharField("指标", max_length=50)
    params = models.JSONField("指标参数", default=dict, blank=True)
    scope_lists = models.JSONField("适用库别", default=list, blank=True)
    scope_levels = models.JSONField("适用重点级别", default=list, blank=True)
    scope_programmes = models.JSONField("适用资金类别", default=list, blank=True)
    scope_regions = models.JSONField("适用区域（含下级）", default=list, blank=True)
    scope_stages = models.JSONField("适用阶段", default=list, blank=True)
    yellow_threshold = models.DecimalField("黄灯阈值", null=True, blank=True, **THRESHOLD)
    red_threshold = models.DecimalField("红灯阈值", null=True, blank=True, **THRESHOLD)
    yellow_after = models.PositiveSmallIntegerField("连续达到黄灯阈值几期亮黄灯", default=1)
    red_after = models.PositiveSmallIntegerField("连续达到黄灯阈值几期升红灯", null=True, blank=True)
    grace_days = models.PositiveSmallIntegerField("期末后宽限天数", default=0)
    grace_months = models.PositiveSmallIntegerField("每年前几个月不亮灯", default=0)
    exemptable = models.BooleanField("有正当理由可免于亮灯", default=True)
    exemption_approver = models.CharField(
        "正当理由审批", max_length=10, choices=Approver.choices, default=Approver.CITY
    )
    year_from = models.PositiveSmallIntegerField("起始年度", null=True, blank=True)
    year_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "预警规则"
        verbose_name_plural = "预警规则"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name

    def applies_in(self, year: int) -> bool:
        return (self.year_from is None or self.year_from <= year) and (
            self.year_to is None or year <= self.year_to
        )


class Status(models.TextChoices):
    ISSUED = "issued", "已亮灯"
    NOTIFIED = "notified", "已通知"
    RECTIFYING = "rectifying", "整改中"
    RECTIFIED = "rectified", "已整改待销号"
    STRUCK_OFF = "struck_off", "已销号"
    EXEMPTED = "exempted", "已免于亮灯"


OPEN_STATUSES = (Status.ISSUED, Status.NOTIFIED, Status.RECTIFYING, Status.RECTIFIED)
CARRIED_STATUSES = (Status.NOTIFIED, Status.RECTIFYING, Status.RECTIFIED)


class Warning(models.Model):
    """A hit of a rule for one subject (a project or a region) in one month, with its light, the
    evidence, who answers for it, and the rectification workflow (整改销号)."""

    rule = models.ForeignKey(Rule, verbose_name="规则", on_delete=models.PROTECT, related_name="warnings")
    subject = models.CharField("对象", max_length=10, choices=Subject.choices)
    project = models.ForeignKey(
        "projects.Project",
        verbose_name="项目",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="warnings",
    )
    region = models.ForeignKey(
        "organisation.Region", verbose_name="区域", on_delete=models.PROTECT, related_name="warnings"
    )
    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    light = models.CharField("灯色", max_length=10, choices=Light.choices)
    value = models.DecimalField("指标值", null=True, blank=True, max_digits=20, decimal_places=4)
    evidence = models.JSONField("依据", default=dict, blank=True)
    streak = models.PositiveSmallIntegerField("连续期数", default=1)
    responsible_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="warnings",
    )
    leader = models.ForeignKey(
        "organisation.Person",
        verbose_name="包联领导",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="warnings",
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ISSUED)
    condition_cleared = models.BooleanField("条件已消除", default=False)
    carried_from = models.ForeignKey(
        "self",
        verbose_name="上期预警",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carried_to",
    )
    escalated = models.BooleanField("黄灯升红灯", default=False)
    plan = models.TextField("整改措施", blank=True)
    deadline = models.DateField("整改时限", null=True, blank=True)
    rectification = models.TextField("整改情况", blank=True)
    attachment = models.ForeignKey(
        "projects.Attachment",
        verbose_name="整改佐证材料",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField("销号/退回意见", max_length=500, blank=True)
    notified_at = models.DateTimeField("通知时间", null=True, blank=True)
    rectified_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    closed_at = models.DateTimeField("销号/免于亮灯时间", null=True, blank=True)
    created_at = models.DateTimeField("亮灯时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-year", "-month", "rule__sort_order", "region__path", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "project", "year", "month"],
                condition=models.Q(project__isnull=False),
                name="warning_rule_project_period_unique",
            ),
            models.UniqueConstraint(
                fields=["rule", "region", "year", "month"],
                condition=models.Q(project__isnull=True),
                name="warning_rule_region_period_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="warning_month_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["year", "month", "light"]),
            models.Index(fields=["rule", "year", "month"]),
            models.Index(fields=["project", "year", "month"]),
        ]

    def __str__(self):
        who = self.project.name if self.project_id else self.region.name
        return f"{who} · {self.rule.name}（{self.year}年{self.month}月）"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Hit(models.Model):
    """That a subject met a rule's base threshold (yellow, else red) in a month. The engine
    keeps one row per hit, lit or not, to count consecutive periods; reruns replace a period's
    rows in place. `subject_id` is a project pk or a region pk per the rule's subject."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="hits")
    subject_id = models.PositiveIntegerField()
    period = models.PositiveIntegerField("期次序号", help_text="year * 12 + month - 1")
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    streak = models.PositiveSmallIntegerField("连续期数", default=1)

    class Meta:
        verbose_name = "达阈值记录"
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "period", "subject_id"], name="hit_rule_period_subject_unique"
            )
        ]

    def __str__(self):
        return f"{self.rule_id}:{self.subject_id}@{self.period}"


class ExemptionStatus(models.TextChoices):
    REQUESTED = "requested", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


class Exemption(models.Model):
    """A justification (正当理由) for a subject under a rule over a range of months. Approved by
    the rule's approver, it keeps the subject unlit for those months."""

    rule = models.ForeignKey(Rule, verbose_name="规则", on_delete=models.CASCADE, related_name="exemptions")
    project = models.ForeignKey(
        "projects.Project",
        verbose_name="项目",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="warning_exemptions",
    )
    region = models.ForeignKey(
        "organisation.Region",
        verbose_name="区域",
        on_delete=models.PROTECT,
        related_name="warning_exemptions",
    )
    warning = models.ForeignKey(
        Warning,
        verbose_name="预警",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exemptions",
    )
    period_from = models.PositiveIntegerField("起始期次", help_text="year * 12 + month - 1")
    period_to = models.PositiveIntegerField("截止期次", help_text="year * 12 + month - 1")
    justification = models.TextField("正当理由")
    status = models.CharField(
        "状态", max_length=20, choices=ExemptionStatus.choices, default=ExemptionStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "正当理由"
        verbose_name_plural = "正当理由"
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["rule", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_to__gte=models.F("period_from")), name="exemption_range"
            )
        ]

    def __str__(self):
        return f"{self.rule.name} 正当理由"


class ScanRun(models.Model):
    """One run of the engine over one month (scan_warnings or the "run now" button)."""

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    seconds = models.DecimalField("耗时（秒）", max_digits=8, decimal_places=2, default=Decimal(0))
    result = models.JSONField("结果", default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "扫描记录"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["year", "month"])]

    def __str__(self):
        return f"{self.year}年{self.month}月预警扫描"


def period_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1
