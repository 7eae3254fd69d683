"""Funds (资金, SPEC C5): programmes as data, allocations (下达) per project and programme with
their arrivals, transfers and payments over time, and loans with their releases and interest
subsidies. Every figure is computed in funds.selectors; every change goes through funds.services.
Rules are in docs/funds.md."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from majorprojects.projects.models import MONEY, FundingSource

POSITIVE = [MinValueValidator(Decimal("0.01"))]


class ProgrammeKind(models.TextChoices):
    BUDGET = "budget", "预算内资金"
    BOND = "bond", "债券资金"
    FINANCE = "finance", "政策性金融"
    LOAN = "loan", "贷款"
    SUBSIDY = "subsidy", "贴息"
    OTHER = "other", "其他"


class Level(models.TextChoices):
    CENTRAL = "central", "中央"
    PROVINCIAL = "provincial", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    OTHER = "other", "其他"


class Programme(models.Model):
    """A funding programme (资金渠道) and its rules, edited by the city admin.

    - window_months: the funds should be used within this many months of issue (blank: no
      window, no pace check);
    - straight_line: expected use grows straight-line over the window; otherwise the whole
      amount is expected only when the window ends;
    - idle_months: an allocation with no payment for this many months is at risk of recall;
    - start_deadline_months: an allocation whose project has not started this many months after
      issue is at risk of recall;
    - funding_source: the dispatch report's source (ReportFunds.source) its payments are
      reported under; several programmes may share one source (省级/市级资金 → 财政资金)."""

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    kind = models.CharField("类别", max_length=20, choices=ProgrammeKind.choices)
    level = models.CharField("层级", max_length=20, choices=Level.choices)
    funding_source = models.CharField(
        "调度表资金来源", max_length=30, choices=FundingSource.choices, blank=True, default=""
    )
    window_months = models.PositiveSmallIntegerField(
        "使用期限（月）", null=True, blank=True, help_text="下达后应在此月数内使用完毕；空表示不设期限"
    )
    straight_line = models.BooleanField(
        "按直线进度考核", default=True, help_text="否：仅在期限届满时要求全部使用"
    )
    idle_months = models.PositiveSmallIntegerField(
        "连续未支付预警（月）", null=True, blank=True, help_text="连续此月数无支付列为可能收回"
    )
    start_deadline_months = models.PositiveSmallIntegerField(
        "开工期限（月）", null=True, blank=True, help_text="下达后此月数内项目仍未开工列为可能收回"
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "资金渠道"
        verbose_name_plural = "资金渠道"
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class Allocation(models.Model):
    """Funds of one programme allocated (下达) to one project by one document."""

    project = models.ForeignKey(
        "projects.Project", verbose_name="项目", on_delete=models.CASCADE, related_name="allocations"
    )
    programme = models.ForeignKey(
        Programme, verbose_name="资金渠道", on_delete=models.PROTECT, related_name="allocations"
    )
    batch = models.CharField("批次", max_length=50, blank=True)
    document_no = models.CharField("下达文号", max_length=100)
    issued_on = models.DateField("下达日期")
    amount = models.DecimalField("下达金额（万元）", validators=POSITIVE, **MONEY)
    note = models.CharField("备注", max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "资金下达"
        verbose_name_plural = "资金下达"
        ordering = ["issued_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "project", "document_no"], name="allocation_document_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["project", "programme"]),
            models.Index(fields=["programme", "issued_on"]),
        ]

    def __str__(self):
        return f"{self.programme} {self.document_no}"


class MovementKind(models.TextChoices):
    ARRIVAL = "arrival", "到位"
    TRANSFER = "transfer", "拨付"
    PAYMENT = "payment", "支付"


class Movement(models.Model):
    """Money of an allocation arriving (到位), transferred to the project unit (拨付) or paid out
    (支付) on a date. A payment confirmed from a dispatch report keeps that report and source, so
    it is confirmed once only."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField("类型", max_length=20, choices=MovementKind.choices)
    on_date = models.DateField("日期")
    amount = models.DecimalField("金额（万元）", validators=POSITIVE, **MONEY)
    note = models.CharField("说明", max_length=200, blank=True)
    report = models.ForeignKey(
        "reporting.Report",
        verbose_name="来源调度表",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fund_movements",
    )
    report_source = models.CharField(max_length=30, choices=FundingSource.choices, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "资金到位/拨付/支付"
        verbose_name_plural = "资金到位/拨付/支付"
        ordering = ["on_date", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="movement_amount_positive"),
        ]
        indexes = [models.Index(fields=["allocation", "kind", "on_date"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.on_date} {self.amount}"


class Loan(models.Model):
    """A loan to a project (政策性开发性金融工具配套融资, 中长期贷款) and its interest subsidy (贴息)."""

    project = models.ForeignKey(
        "projects.Project", verbose_name="项目", on_delete=models.CASCADE, related_name="loans"
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name="资金渠道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loans",
    )
    bank = models.CharField("贷款银行", max_length=100)
    contract_no = models.CharField("合同编号", max_length=100, blank=True)
    signed_on = models.DateField("签约日期")
    amount_signed = models.DecimalField("签约金额（万元）", validators=POSITIVE, **MONEY)
    term_months = models.PositiveSmallIntegerField("贷款期限（月）", null=True, blank=True)
    subsidy_applied = models.DecimalField(
        "申请贴息（万元）", default=Decimal(0), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    subsidy_granted = models.DecimalField(
        "获批贴息（万元）", default=Decimal(0), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    note = models.CharField("备注", max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "贷款"
        verbose_name_plural = "贷款"
        ordering = ["signed_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_signed__gt=0), name="loan_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(subsidy_applied__gte=0, subsidy_granted__gte=0),
                name="loan_subsidy_nonnegative",
            ),
        ]

    def __str__(self):
        return f"{self.bank} {self.amount_signed}"


class LoanRelease(models.Model):
    """Money of a loan released (投放) on a date."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="releases")
    on_date = models.DateField("投放日期")
    amount = models.DecimalField("投放金额（万元）", validators=POSITIVE, **MONEY)
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "贷款投放"
        verbose_name_plural = "贷款投放"
        ordering = ["on_date", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="loan_release_amount_positive"),
        ]

    def __str__(self):
        return f"{self.on_date} {self.amount}"
