from django.urls import path

from . import grid_views, overview_views, period_views, views

app_name = "reporting"

urlpatterns = [
    # Overview: plan vs done, rates, trend (overview_views)
    path("", overview_views.overview, name="overview"),
    path("export/", overview_views.overview_export, name="overview_export"),
    # Periods, completeness, locking, schedules (views)
    path("periods/", period_views.period_list, name="periods"),
    path("periods/<int:pk>/", period_views.period_detail, name="period"),
    path("periods/<int:pk>/lock/", period_views.period_lock_view, name="period_lock"),
    path("periods/<int:pk>/missing.xlsx", period_views.missing_export, name="missing_export"),
    path("schedules/", period_views.schedule_list, name="schedules"),
    path("schedules/new/", period_views.schedule_edit, name="schedule_new"),
    path("schedules/<int:pk>/", period_views.schedule_edit, name="schedule_edit"),
    # Batch entry: grid and Excel template (grid_views)
    path("periods/<int:pk>/grid/", grid_views.grid, name="grid"),
    path("periods/<int:pk>/grid/<int:report_pk>/", grid_views.grid_row, name="grid_row"),
    path("periods/<int:pk>/template.xlsx", grid_views.template_download, name="template"),
    path("periods/<int:pk>/upload/", grid_views.upload, name="upload"),
    # One report: fill, submit, review, photos, corrections (views)
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/submit/", views.report_submit_view, name="report_submit"),
    path("reports/<int:pk>/approve/", views.report_approve_view, name="report_approve"),
    path("reports/<int:pk>/return/", views.report_return_view, name="report_return"),
    path("reports/<int:pk>/photos/", views.report_photo_view, name="report_photo"),
    path("reports/<int:pk>/correction/", views.correction_request_view, name="correction_request"),
    path("corrections/", period_views.correction_list, name="corrections"),
    path("corrections/<int:pk>/decide/", period_views.correction_decide_view, name="correction_decide"),
]
