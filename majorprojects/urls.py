from django.urls import include, path

from majorprojects.api import api

urlpatterns = [
    path("", include("majorprojects.core.urls")),
    path("accounts/", include("majorprojects.accounts.urls")),
    path("org/", include("majorprojects.organisation.urls")),
    path("projects/", include("majorprojects.projects.urls")),
    path("dispatch/", include("majorprojects.reporting.urls")),
    path("problems/", include("majorprojects.problems.urls")),
    path("funds/", include("majorprojects.funds.urls")),
    path("approvals/", include("majorprojects.approvals.urls")),
    path("alerts/", include("majorprojects.alerts.urls")),
    path("audit/", include("majorprojects.audit.urls")),
    path("api/", api.urls),
]

handler403 = "majorprojects.core.views.forbidden"
handler404 = "majorprojects.core.views.not_found"
