from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "majorprojects.alerts"
    label = "alerts"
    verbose_name = "预警（红黄灯）"
