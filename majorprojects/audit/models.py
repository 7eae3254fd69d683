from django.conf import settings
from django.db import models


class Event(models.Model):
    """One row per change: the project timeline and the audit trail are both read from here."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verb = models.CharField("动作", max_length=50, db_index=True)
    target_type = models.CharField("对象类型", max_length=50)
    target_id = models.CharField("对象编号", max_length=50, blank=True)
    target_label = models.CharField("对象", max_length=300, blank=True)
    project = models.ForeignKey(
        "projects.Project",
        verbose_name="项目",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    details = models.JSONField("详情", default=dict, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)

    class Meta:
        verbose_name = "操作记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["project", "-at"]), models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.verb} {self.target_label}"
