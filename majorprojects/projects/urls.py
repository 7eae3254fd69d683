from django.urls import path

from . import import_views, views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("export.xlsx", views.project_export, name="export"),
    path("new/", views.project_create, name="create"),
    path("filters/", views.saved_filter_save, name="filter_save"),
    path("filters/<int:filter_pk>/delete/", views.saved_filter_delete, name="filter_delete"),
    path("import/", import_views.upload, name="import"),
    path("import/template.xlsx", import_views.template_download, name="import_template"),
    path("import/<int:batch_pk>/", import_views.preview, name="import_preview"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/tab/<slug:tab>/", views.project_detail, name="tab"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/transition/", views.project_transition, name="transition"),
    path("<int:pk>/listings/", views.listing_save, name="listing_save"),
    path("<int:pk>/listings/<int:listing_pk>/delete/", views.listing_delete, name="listing_delete"),
    path("<int:pk>/campaigns/", views.membership_add, name="membership_add"),
    path("<int:pk>/campaigns/<int:membership_pk>/delete/", views.membership_remove, name="membership_remove"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment_download"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/delete/", views.attachment_delete, name="attachment_delete"
    ),
]
