from django.urls import path

from . import views

app_name = "problems"
urlpatterns = [
    # Lists, figures, exports
    path("", views.problem_list, name="list"),
    path("export.xlsx", views.problem_export, name="export"),
    path("mine/", views.my_problems, name="mine"),
    path("metrics/", views.problem_metrics, name="metrics"),
    path("metrics/export.xlsx", views.metrics_export, name="metrics_export"),
    path("weekly/", views.weekly, name="weekly"),
    path("weekly/export.xlsx", views.weekly_export, name="weekly_export"),
    path("new/", views.problem_raise, name="raise"),
    # One problem and its workflow steps (POST only)
    path("<int:pk>/", views.problem_detail, name="detail"),
    path("<int:pk>/accept/", views.accept_view, name="accept"),
    path("<int:pk>/merge/", views.merge_view, name="merge"),
    path("<int:pk>/split/", views.split_view, name="split"),
    path("<int:pk>/assign/", views.assign_view, name="assign"),
    path("<int:pk>/progress/", views.progress_view, name="progress"),
    path("<int:pk>/extension/", views.extension_view, name="extension"),
    path("<int:pk>/extensions/<int:ext_pk>/decide/", views.decide_view, name="decide"),
    path("<int:pk>/resolve/", views.resolve_view, name="resolve"),
    path("<int:pk>/confirm/", views.confirm_view, name="confirm"),
    path("<int:pk>/close/", views.close_view, name="close"),
    path("<int:pk>/escalate/", views.escalate_view, name="escalate"),
    path("<int:pk>/coordinations/<int:coord_pk>/", views.coordination_view, name="coordination"),
    path("<int:pk>/tasks/<int:task_pk>/done/", views.task_done_view, name="task_done"),
    path("<int:pk>/attachments/", views.attachment_add_view, name="attachment_add"),
    path("<int:pk>/attachments/<int:att_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/attachments/<int:att_pk>/delete/", views.attachment_delete_view, name="attachment_delete"),
]
