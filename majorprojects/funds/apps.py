from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "majorprojects.funds"
    label = "funds"
    verbose_name = "资金"
