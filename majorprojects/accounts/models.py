import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", "综合专班/发改委管理员"
    LEADER = "leader", "市领导"
    DEPARTMENT = "department", "行业主管部门"
    COUNTY = "county", "县市区"
    PROJECT_UNIT = "project_unit", "项目单位"
    AUDITOR = "auditor", "安全审计管理员"


class User(AbstractUser):
    """An account. What it sees is decided by accounts.scope from role, unit and region."""

    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.PROJECT_UNIT)
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    region = models.ForeignKey(
        "organisation.Region",
        verbose_name="管辖区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    person = models.OneToOneField(
        "organisation.Person",
        verbose_name="对应人员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )
    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机", max_length=30, blank=True)

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class LoginAttempt(models.Model):
    """Failed sign-ins, kept for throttling and for the audit trail."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "登录失败记录"

    def __str__(self):
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a hash is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = "接口令牌"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        return secrets.token_urlsafe(32)
