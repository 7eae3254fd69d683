from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "majorprojects.audit"
    label = "audit"
    verbose_name = "审计"
