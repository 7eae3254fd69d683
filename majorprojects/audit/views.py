from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from majorprojects.accounts.scope import can_read_audit

from .models import Event


def event_list(request: HttpRequest) -> HttpResponse:
    """The audit trail for the security/audit administrator: who did what, when, from where."""
    if not can_read_audit(request.user):
        raise PermissionDenied("仅安全审计管理员可查看审计日志。")
    events = Event.objects.select_related("actor")
    q = request.GET.get("q", "").strip()
    verb = request.GET.get("verb", "").strip()
    if q:
        events = events.filter(
            Q(actor__username__icontains=q) | Q(target_label__icontains=q) | Q(ip__icontains=q)
        )
    if verb:
        events = events.filter(verb=verb)
    verbs = Event.objects.order_by("verb").values_list("verb", flat=True).distinct()
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(request, "audit/event_list.html", {"page": page, "q": q, "verb": verb, "verbs": verbs})
