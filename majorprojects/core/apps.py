from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "majorprojects.core"
    label = "core"
    verbose_name = "公共"
