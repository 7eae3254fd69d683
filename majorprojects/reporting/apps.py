from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "majorprojects.reporting"
    label = "reporting"
    verbose_name = "调度"
