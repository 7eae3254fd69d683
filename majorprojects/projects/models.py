import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
MONEY = {"max_digits": 16, "decimal_places": 2}


def validate_project_code(value: str) -> None:
    if value and not PROJECT_CODE.match(value):
        raise ValidationError("项目代码格式应为 YYYY-RRRRRR-DD-TT-NNNNNN，如 2024-431921-48-01-123456。")


class Stage(models.TextChoices):
    CONCEIVED = "conceived", "谋划"
    RESERVED = "reserved", "储备"
    PREPARING = "preparing", "前期"
    SIGNED = "signed", "签约"
    CONSTRUCTION = "construction", "在建"
    COMPLETED = "completed", "竣工"
    OPERATING = "operating", "投产达效"


STAGE_ORDER = [s.value for s in Stage]


class ApprovalRegime(models.TextChoices):
    APPROVAL = "approval", "审批类"
    VERIFICATION = "verification", "核准类"
    FILING = "filing", "备案类"


class FundingSource(models.TextChoices):
    CENTRAL_BUDGET = "central_budget", "中央预算内投资"
    ULTRA_LONG_BOND = "ultra_long_bond", "超长期特别国债"
    SPECIAL_BOND = "special_bond", "地方政府专项债券"
    POLICY_FINANCE = "policy_finance", "政策性开发性金融工具"
    FISCAL = "fiscal", "省市县财政资金"
    BANK_LOAN = "bank_loan", "银行贷款"
    SELF_RAISED = "self_raised", "企业自筹"
    OTHER = "other", "其他"


class Tag(models.Model):
    name = models.CharField("标签", max_length=30, unique=True)

    class Meta:
        verbose_name = "标签"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Project(models.Model):
    """One project, one file (一项一档). Packaged projects (打包项目) hold sub-projects via parent."""

    name = models.CharField("项目名称", max_length=200)
    code = models.CharField(
        "项目代码", max_length=24, unique=True, null=True, blank=True, validators=[validate_project_code]
    )
    owner_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="项目单位（业主）",
        on_delete=models.PROTECT,
        related_name="owned_projects",
    )
    region = models.ForeignKey(
        "organisation.Region", verbose_name="所在区域", on_delete=models.PROTECT, related_name="projects"
    )
    address = models.CharField("建设地点", max_length=200, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    sector = models.ForeignKey(
        "organisation.Sector", verbose_name="项目类别", on_delete=models.PROTECT, related_name="projects"
    )
    industry = models.ForeignKey(
        "organisation.Sector",
        verbose_name="所属行业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="industry_projects",
    )
    content = models.TextField("建设内容及规模", blank=True)
    approval_regime = models.CharField(
        "审批类型", max_length=20, choices=ApprovalRegime.choices, default=ApprovalRegime.FILING
    )
    start_year = models.PositiveSmallIntegerField("建设起始年", null=True, blank=True)
    end_year = models.PositiveSmallIntegerField("建设截止年", null=True, blank=True)
    total_investment = models.DecimalField(
        "总投资（万元）", validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    is_private_investment = models.BooleanField("民间投资", default=False)
    is_high_tech = models.BooleanField("高技术产业", default=False)
    package_leader = models.ForeignKey(
        "organisation.Person",
        verbose_name="包联领导",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="packaged_projects",
    )
    responsible_department = models.ForeignKey(
        "organisation.Unit",
        verbose_name="责任部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsible_projects",
    )
    contact_name = models.CharField("项目负责人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    work_group = models.ForeignKey(
        "organisation.WorkGroup",
        verbose_name="工作专班",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    tags = models.ManyToManyField(Tag, verbose_name="标签", blank=True, related_name="projects")
    stage = models.CharField(
        "阶段", max_length=20, choices=Stage.choices, default=Stage.RESERVED, db_index=True
    )
    planned_start_date = models.DateField("计划开工日期", null=True, blank=True)
    planned_completion_date = models.DateField("计划竣工日期", null=True, blank=True)
    actual_start_date = models.DateField("实际开工日期", null=True, blank=True)
    actual_completion_date = models.DateField("实际竣工日期", null=True, blank=True)
    main_structure_date = models.DateField("主体完工日期", null=True, blank=True)
    stats_included = models.BooleanField("已入统", default=False)
    stats_included_date = models.DateField("入统日期", null=True, blank=True)
    prior_investment = models.DecimalField(
        "启用本平台前累计完成投资（万元）",
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text="开工累计完成 = 此数 + 各期调度完成投资",
        **MONEY,
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="所属打包项目",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_package = models.BooleanField("打包项目", default=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "项目"
        verbose_name_plural = "项目"
        ordering = ["region__path", "-total_investment", "id"]
        indexes = [
            models.Index(fields=["region", "stage"]),
            models.Index(fields=["sector", "stage"]),
            models.Index(fields=["name"]),
            models.Index(fields=["-total_investment"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_investment__gte=0), name="project_total_nonnegative"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.start_year and self.end_year and self.end_year < self.start_year:
            errors["end_year"] = "建设截止年不能早于起始年。"
        if self.actual_completion_date and not self.actual_start_date:
            errors["actual_completion_date"] = "填写实际竣工日期前须先有实际开工日期。"
        if (
            self.actual_completion_date
            and self.actual_start_date
            and self.actual_completion_date < self.actual_start_date
        ):
            errors["actual_completion_date"] = "实际竣工日期不能早于实际开工日期。"
        if (
            self.planned_start_date
            and self.planned_completion_date
            and self.planned_completion_date < self.planned_start_date
        ):
            errors["planned_completion_date"] = "计划竣工日期不能早于计划开工日期。"
        if self.parent_id and self.parent_id == self.pk:
            errors["parent"] = "项目不能属于自身。"
        if errors:
            raise ValidationError(errors)


class ProjectFunding(models.Model):
    """Total investment broken down by source (资金来源构成)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="funding")
    source = models.CharField("资金来源", max_length=30, choices=FundingSource.choices)
    amount = models.DecimalField("金额（万元）", validators=[MinValueValidator(Decimal(0))], **MONEY)

    class Meta:
        verbose_name = "资金来源"
        constraints = [
            models.UniqueConstraint(fields=["project", "source"], name="funding_project_source_unique")
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.amount}"


class ListKind(models.TextChoices):
    RESERVE = "reserve", "储备项目"
    CONSTRUCTION = "construction", "年度建设项目"


class KeyLevel(models.TextChoices):
    NONE = "", "非重点"
    COUNTY = "county", "县重点"
    CITY = "city", "市重点"
    PROVINCE = "province", "省重点"


class AnnualListing(models.Model):
    """A project's place in one year's lists (储备库/年度建设库 and 省·市·县重点)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="listings")
    year = models.PositiveSmallIntegerField("年度", db_index=True)
    list_kind = models.CharField("库别", max_length=20, choices=ListKind.choices)
    key_level = models.CharField("重点级别", max_length=20, choices=KeyLevel.choices, blank=True, default="")
    planned_investment = models.DecimalField(
        "年度计划投资（万元）", default=Decimal(0), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    planned_start = models.DateField("计划开工", null=True, blank=True)
    planned_completion = models.DateField("计划竣工", null=True, blank=True)
    is_new_start = models.BooleanField("新开工（否则续建）", default=False)
    target = models.TextField("年度建设目标", blank=True)

    class Meta:
        verbose_name = "年度清单"
        verbose_name_plural = "年度清单"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="listing_project_year_unique"),
            models.CheckConstraint(
                condition=models.Q(planned_investment__gte=0), name="listing_plan_nonnegative"
            ),
        ]
        indexes = [models.Index(fields=["year", "list_kind", "key_level"])]

    def __str__(self):
        return f"{self.year} {self.get_list_kind_display()} {self.get_key_level_display()}"


class CampaignKind(models.TextChoices):
    THREE_BATCHES = "three_batches", "三个一批"
    THREE_EARLY = "three_early", "三早"
    CONCENTRATED_START = "concentrated_start", "集中开工"
    WINTER = "winter", "冬季不停工"
    WHITELIST_FINANCE = "whitelist_finance", "融资白名单"
    WHITELIST_FOUR = "whitelist_four", "四保白名单"
    OTHER = "other", "其他"


class BatchKind(models.TextChoices):
    NONE = "", "—"
    SIGN = "sign", "签约一批"
    START = "start", "开工一批"
    PRODUCE = "produce", "投产一批"


class Campaign(models.Model):
    kind = models.CharField("活动类型", max_length=30, choices=CampaignKind.choices)
    name = models.CharField("名称", max_length=100, unique=True)
    year = models.PositiveSmallIntegerField("年度")
    issue_no = models.PositiveSmallIntegerField("期次", null=True, blank=True)
    event_date = models.DateField("活动日期", null=True, blank=True)
    projects = models.ManyToManyField(Project, through="CampaignMembership", related_name="campaigns")

    class Meta:
        verbose_name = "专项活动"
        ordering = ["-year", "kind", "issue_no"]

    def __str__(self):
        return self.name


class CampaignMembership(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    batch = models.CharField("三个一批类别", max_length=10, choices=BatchKind.choices, blank=True, default="")

    class Meta:
        verbose_name = "活动项目"
        constraints = [models.UniqueConstraint(fields=["campaign", "project"], name="membership_unique")]

    def __str__(self):
        return f"{self.campaign} · {self.project}"


class AttachmentKind(models.TextChoices):
    APPROVAL = "approval", "审批文件"
    PHOTO = "photo", "形象进度照片"
    CONTRACT = "contract", "合同协议"
    OTHER = "other", "其他"


def attachment_path(instance, filename):
    return f"attachments/{instance.project_id}/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


class StoredFile(models.Model):
    """What every uploaded file keeps (checked by projects.services.check_attachment). Stored under
    MEDIA_ROOT (outside the web root); served by a scoped view only. Subclasses add the owner and
    `file = models.FileField(upload_to=<their path>, max_length=300)`."""

    original_name = models.CharField("文件名", max_length=200)
    extension = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.original_name


class Attachment(StoredFile):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("类型", max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=300)

    class Meta(StoredFile.Meta):
        verbose_name = "附件"


class ImportBatch(models.Model):
    """An uploaded ledger waiting in preview; committed all-or-nothing by projects.importing."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "待确认"
        DONE = "done", "已导入"
        DISCARDED = "discarded", "已放弃"

    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField("文件名", max_length=200)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    mapping = models.JSONField("列对应关系", default=dict, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PREVIEW)
    result = models.JSONField("结果", default=dict, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "导入批次"
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name


class SavedFilter(models.Model):
    """A named project-list query kept by one account (我的筛选)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField("名称", max_length=50)
    query = models.CharField("查询条件", max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "保存的筛选"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_user_name_unique")]

    def __str__(self):
        return self.name
