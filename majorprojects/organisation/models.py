import re

from django.core.exceptions import ValidationError
from django.db import models

DIVISION_CODE = re.compile(r"^\d{6}$")


def validate_division_code(value: str) -> None:
    if not DIVISION_CODE.match(value or ""):
        raise ValidationError("区划代码应为 6 位数字（GB/T 2260），如 431921。")


class RegionKind(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    DISTRICT = "district", "区"
    COUNTY = "county", "县"
    COUNTY_CITY = "county_city", "县级市"
    ZONE = "zone", "功能区（经开区/高新区/管理区）"


class Region(models.Model):
    """A node of the division tree. `path` ('/430000/431900/431921/') makes subtree queries one
    indexed prefix match, so a county, a city or a province deployment scopes the same way."""

    code = models.CharField("区划代码", max_length=6, unique=True, validators=[validate_division_code])
    name = models.CharField("名称", max_length=50)
    short_name = models.CharField("简称", max_length=20, blank=True)
    kind = models.CharField("类型", max_length=20, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=200, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "行政区域"
        verbose_name_plural = "行政区域"
        ordering = ["path"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        parent_path = self.parent.path if self.parent_id else "/"
        self.path = f"{parent_path}{self.code}/"
        self.depth = self.parent.depth + 1 if self.parent_id else 0
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return self.short_name or self.name

    def subtree(self):
        return Region.objects.filter(path__startswith=self.path)


class Sector(models.Model):
    """Project category (产业/基础设施/民生/生态…) with industries as children; configurable."""

    code = models.CharField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "项目类别/行业"
        verbose_name_plural = "项目类别/行业"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class UnitKind(models.TextChoices):
    DEPARTMENT = "department", "政府部门"
    GOVERNMENT = "government", "县市区政府/管委会"
    ENTERPRISE = "enterprise", "企业/项目单位"
    BANK = "bank", "金融机构"
    OTHER = "other", "其他"


class Unit(models.Model):
    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=30, blank=True)
    kind = models.CharField("单位类型", max_length=20, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="units"
    )
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    sectors = models.ManyToManyField(
        Sector,
        verbose_name="主管行业",
        blank=True,
        related_name="departments",
        help_text="行业主管部门可查看这些类别/行业的项目",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    reads_all_projects = models.BooleanField(
        "可查看全部项目",
        default=False,
        help_text="统计、财政、自然资源等综合部门：可查看本级全部项目（只读），修改范围仍为主管行业和责任项目",
    )
    records_funds = models.BooleanField(
        "财政部门（登记资金）",
        default=False,
        help_text="财政局：可登记本级及下级项目的资金下达、到位、拨付和支付",
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "region"], name="unit_name_region_unique")]

    def __str__(self):
        return self.name


class Person(models.Model):
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("电话", max_length=30, blank=True)
    position = models.CharField("职务", max_length=100, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name="单位", null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    is_leader = models.BooleanField("市/县领导", default=False)
    is_liaison = models.BooleanField("联络员", default=False)
    portfolio = models.CharField("分管领域", max_length=200, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["sort_order", "name"]

    def __str__(self):
        return f"{self.name}（{self.position}）" if self.position else self.name


class WorkGroupKind(models.TextChoices):
    GENERAL = "general", "综合专班"
    SUPPORT = "support", "保障专班"
    PROJECT = "project", "项目专班"


class WorkGroup(models.Model):
    """专班: one lead unit, member units, a leader in charge ("1+3+8")."""

    name = models.CharField("专班名称", max_length=100, unique=True)
    kind = models.CharField("类型", max_length=20, choices=WorkGroupKind.choices)
    lead_unit = models.ForeignKey(
        Unit, verbose_name="牵头单位", on_delete=models.PROTECT, related_name="led_groups"
    )
    member_units = models.ManyToManyField(
        Unit, verbose_name="成员单位", blank=True, related_name="work_groups"
    )
    leader = models.ForeignKey(
        Person,
        verbose_name="分管领导",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_groups",
    )
    duties = models.TextField("职责", blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "工作专班"
        verbose_name_plural = "工作专班"
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name
