from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    name = "majorprojects.organisation"
    label = "organisation"
    verbose_name = "组织机构"
