from django.urls import path

from . import views

app_name = "organisation"
urlpatterns = [
    path("", views.directory, name="regions"),
    path("<slug:section>/", views.directory, name="directory"),
    path("<slug:section>/new/", views.edit, name="create"),
    path("<slug:section>/<int:pk>/edit/", views.edit, name="edit"),
]
