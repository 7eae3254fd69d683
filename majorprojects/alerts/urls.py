from django.urls import path

from . import rule_views, views, warning_views

app_name = "alerts"
urlpatterns = [
    # The board, the negative list, the list, my to-do
    path("", views.index, name="index"),
    path("scan/", views.scan, name="scan"),
    path("negative/", views.negative, name="negative"),
    path("negative/export.xlsx", views.negative_export, name="negative_export"),
    path("warnings/", views.warning_list, name="list"),
    path("mine/", views.mine, name="mine"),
    # One warning and its workflow steps (POST only)
    path("warnings/<int:pk>/", warning_views.detail, name="detail"),
    path("warnings/<int:pk>/notify/", warning_views.notify, name="notify"),
    path("warnings/<int:pk>/plan/", warning_views.plan, name="plan"),
    path("warnings/<int:pk>/rectified/", warning_views.rectified, name="rectified"),
    path("warnings/<int:pk>/strike-off/", warning_views.strike_off, name="strike_off"),
    path("warnings/<int:pk>/reopen/", warning_views.reopen, name="reopen"),
    path("warnings/<int:pk>/exemption/", warning_views.exemption, name="exemption"),
    path("warnings/<int:pk>/exemption/decide/", warning_views.decide, name="decide"),
    # Rules (editing, import and restore: the city admin)
    path("rules/", rule_views.rule_list, name="rules"),
    path("rules/new/", rule_views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", rule_views.rule_edit, name="rule_edit"),
    path("rules/export.json", rule_views.rule_export, name="rule_export"),
    path("rules/import/", rule_views.rule_import, name="rule_import"),
    path("rules/restore/", rule_views.rule_restore_preview, name="rule_restore_preview"),
    path("rules/restore/apply/", rule_views.rule_restore, name="rule_restore"),
]
