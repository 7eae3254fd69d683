from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "majorprojects.approvals"
    label = "approvals"
    verbose_name = "前期工作"
