from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "majorprojects.accounts"
    label = "accounts"
    verbose_name = "账号"
