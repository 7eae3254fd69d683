"""The pre-construction approvals ledger (前期工作台账, SPEC C3).

- `ApprovalItemType`: one kind of approval (可研批复, 环评, 施工许可 …) with its defaults: approving
  body, validity clock (months, and what "used" means), statutory deadline in working days.
- `TemplateItem`: the ordered items each approval regime (审批类/核准类/备案类) needs.
- `ApprovalItem`: one project's item: status, who handles it, planned vs actual dates, document
  number, attachment, and for promise-based approvals (容缺/告知承诺) the due date of the papers.
- `ReadinessRule` + `ReadinessRequirement`: "ready to start" and "ready for funding" as data.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from majorprojects.projects.models import ApprovalRegime, FundingSource


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未启动"
    IN_PROGRESS = "in_progress", "办理中"
    DONE = "done", "已办结"
    PROMISED = "promised", "容缺承诺"
    NOT_APPLICABLE = "not_applicable", "不涉及"


# Statuses in which the approval has been granted (a promise-based approval is granted; its
# papers follow). Their validity clocks run from the actual date.
GRANTED = (ItemStatus.DONE, ItemStatus.PROMISED)
# Statuses still to be worked on: these can be overdue against their planned date.
OPEN = (ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS)


class UsedWhen(models.TextChoices):
    START = "start", "项目开工"
    ITEM = "item", "后续事项办结"


class ApprovalItemType(models.Model):
    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("事项名称", max_length=50, unique=True)
    approving_body = models.CharField("默认审批部门", max_length=100, blank=True)
    validity_months = models.PositiveSmallIntegerField(
        "有效期（月）",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="自批复（办结）之日起计算；空表示不设有效期",
    )
    used_when = models.CharField(
        "有效期内须完成",
        max_length=10,
        choices=UsedWhen.choices,
        default=UsedWhen.START,
        help_text="批复在此之前失效即为“失效风险”；项目开工后所有有效期均视为已使用",
    )
    used_by = models.ForeignKey(
        "self",
        verbose_name="后续事项",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="“后续事项办结”时：哪一事项办结即视为已使用",
    )
    warn_days = models.PositiveSmallIntegerField(
        "失效前预警（天）", default=90, validators=[MaxValueValidator(3650)]
    )
    deadline_workdays = models.PositiveSmallIntegerField(
        "办理时限（工作日）",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="自受理之日起的法定工作日数；填写受理日期而未填计划完成日期时据此计算",
    )
    basis = models.CharField("依据", max_length=200, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "审批事项类型"
        verbose_name_plural = "审批事项类型"
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class TemplateItem(models.Model):
    """One position in a regime's template (审批类/核准类/备案类 each have their ordered list)."""

    regime = models.CharField("审批类型", max_length=20, choices=ApprovalRegime.choices)
    item_type = models.ForeignKey(
        ApprovalItemType, verbose_name="事项", on_delete=models.CASCADE, related_name="template_items"
    )
    position = models.PositiveSmallIntegerField("顺序")

    class Meta:
        verbose_name = "事项模板"
        verbose_name_plural = "事项模板"
        ordering = ["regime", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "item_type"], name="template_regime_type_unique"),
        ]

    def __str__(self):
        return f"{self.get_regime_display()} {self.position}. {self.item_type}"


class ApprovalItem(models.Model):
    project = models.ForeignKey(
        "projects.Project", verbose_name="项目", on_delete=models.CASCADE, related_name="approval_items"
    )
    item_type = models.ForeignKey(
        ApprovalItemType, verbose_name="事项", on_delete=models.PROTECT, related_name="items"
    )
    position = models.PositiveSmallIntegerField("顺序", default=0)
    status = models.CharField(
        "办理状态", max_length=20, choices=ItemStatus.choices, default=ItemStatus.NOT_STARTED, db_index=True
    )
    responsible_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_items",
    )
    responsible_person = models.CharField("责任人", max_length=50, blank=True)
    submitted_date = models.DateField("受理日期", null=True, blank=True)
    planned_date = models.DateField("计划完成日期", null=True, blank=True, db_index=True)
    actual_date = models.DateField("实际办结日期", null=True, blank=True)
    approving_body = models.CharField("审批部门", max_length=100, blank=True)
    document_number = models.CharField("批复文号", max_length=100, blank=True)
    attachment = models.ForeignKey(
        "projects.Attachment",
        verbose_name="批复文件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    not_applicable_reason = models.CharField("不涉及原因", max_length=200, blank=True)
    promise_due_date = models.DateField("承诺补齐期限", null=True, blank=True)
    papers_supplied_date = models.DateField("要件补齐日期", null=True, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "前期工作事项"
        verbose_name_plural = "前期工作事项"
        ordering = ["project_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "item_type"], name="approval_item_project_type_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["item_type", "status"]),
            models.Index(fields=["status", "promise_due_date"]),
        ]

    def __str__(self):
        return f"{self.project} · {self.item_type}"


class ReadinessTarget(models.TextChoices):
    START = "start", "具备开工条件"
    FUNDING = "funding", "具备资金申报/下达条件"


class ReadinessRule(models.Model):
    """A condition a project must meet. `target=start`: ready to start. `target=funding`: ready
    for the funding programmes listed (FundingSource values). A rule requires its listed item
    types in the listed statuses, and with `all_items` also every other item of the project's
    ledger (except `except_types`) in `all_statuses`."""

    name = models.CharField("规则名称", max_length=100, unique=True)
    target = models.CharField("用途", max_length=10, choices=ReadinessTarget.choices)
    programmes = models.JSONField(
        "资金渠道", default=list, blank=True, help_text="适用的资金来源代码（用途为资金时）"
    )
    all_items = models.BooleanField("台账全部事项", default=False)
    all_statuses = models.JSONField("全部事项须处于的状态", default=list, blank=True)
    except_types = models.ManyToManyField(
        ApprovalItemType, verbose_name="除外事项", blank=True, related_name="+"
    )
    basis = models.CharField("依据", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "成熟度规则"
        verbose_name_plural = "成熟度规则"
        ordering = ["target", "sort_order", "id"]

    def __str__(self):
        return self.name

    def programme_labels(self) -> list[str]:
        labels = dict(FundingSource.choices)
        return [labels.get(code, code) for code in self.programmes]


class ReadinessRequirement(models.Model):
    rule = models.ForeignKey(ReadinessRule, on_delete=models.CASCADE, related_name="requirements")
    item_type = models.ForeignKey(
        ApprovalItemType, verbose_name="事项", on_delete=models.CASCADE, related_name="+"
    )
    statuses = models.JSONField("须处于的状态", default=list)

    class Meta:
        verbose_name = "成熟度要求"
        ordering = ["rule_id", "item_type__sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "item_type"], name="readiness_rule_type_unique"),
        ]

    def __str__(self):
        return f"{self.rule} · {self.item_type}"
