from django.urls import path

from . import rule_views, template_views, views

app_name = "approvals"

urlpatterns = [
    # City-wide: matrix, items (export/import), overdue, readiness
    path("", views.index, name="index"),
    path("items/", views.item_list, name="items"),
    path("items/export.xlsx", views.item_export, name="export"),
    path("import/", views.ledger_import, name="import"),
    path("overdue/", views.overdue, name="overdue"),
    path("readiness/", views.readiness, name="readiness"),
    # One project's ledger and its items
    path("projects/<int:pk>/", views.project_ledger, name="project"),
    path("projects/<int:pk>/apply-templates/", views.apply_templates, name="apply_templates"),
    path("items/<int:item_pk>/", views.item_edit, name="item"),
    path("items/<int:item_pk>/attachment/", views.item_attach, name="item_attach"),
    # Templates and item types (city admin)
    path("templates/", template_views.templates, name="templates"),
    path("templates/<str:regime>/add/", template_views.template_add, name="template_add"),
    path(
        "templates/<str:regime>/<int:type_pk>/remove/", template_views.template_remove, name="template_remove"
    ),
    path("templates/<str:regime>/<int:type_pk>/move/", template_views.template_move, name="template_move"),
    path("item-types/new/", template_views.item_type_edit, name="item_type_new"),
    path("item-types/<int:pk>/", template_views.item_type_edit, name="item_type_edit"),
]

urlpatterns += [
    # Readiness rules (read by everyone who reads projects; changed by the city admin)
    path("rules/", rule_views.rules, name="rules"),
    path("rules/new/", rule_views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", rule_views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", rule_views.rule_delete, name="rule_delete"),
]
