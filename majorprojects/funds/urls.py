from django.urls import path

from . import project_views, views

app_name = "funds"

urlpatterns = [
    # Overview, ledger, at-risk list, programmes (views)
    path("", views.index, name="index"),
    path("export/", views.index_export, name="index_export"),
    path("allocations/", views.allocations, name="allocations"),
    path("allocations/export/", views.allocations_export, name="allocations_export"),
    path("at-risk/", views.at_risk, name="at_risk"),
    path("at-risk/export/", views.at_risk_export, name="at_risk_export"),
    path("programmes/", views.programmes, name="programmes"),
    path("programmes/new/", views.programme_edit, name="programme_new"),
    path("programmes/<int:pk>/", views.programme_edit, name="programme_edit"),
    # One project's funds and the forms that change them (project_views)
    path("projects/<int:pk>/", project_views.project, name="project"),
    path("projects/<int:pk>/allocations/new/", project_views.allocation_new, name="allocation_new"),
    path(
        "projects/<int:pk>/confirm/<int:programme_pk>/",
        project_views.confirm_reported,
        name="confirm_reported",
    ),
    path("projects/<int:pk>/loans/new/", project_views.loan_new, name="loan_new"),
    path("allocations/<int:pk>/edit/", project_views.allocation_edit, name="allocation_edit"),
    path("allocations/<int:pk>/delete/", project_views.allocation_delete, name="allocation_delete"),
    path("allocations/<int:pk>/movements/", project_views.movement_add, name="movement_add"),
    path("movements/<int:pk>/delete/", project_views.movement_delete, name="movement_delete"),
    path("loans/<int:pk>/edit/", project_views.loan_edit, name="loan_edit"),
    path("loans/<int:pk>/releases/", project_views.release_add, name="release_add"),
    path("releases/<int:pk>/delete/", project_views.release_delete, name="release_delete"),
]
