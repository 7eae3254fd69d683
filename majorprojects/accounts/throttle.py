"""Login throttling: too many failures for one username or one address locks sign-in for a while."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import LoginAttempt


def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def is_locked(username: str, ip: str | None) -> bool:
    since = _window_start()
    by_name = LoginAttempt.objects.filter(username__iexact=username, at__gte=since).count()
    by_ip = LoginAttempt.objects.filter(ip=ip, at__gte=since).count() if ip else 0
    # One address may try several names (a shared office), so it gets a larger allowance.
    return by_name >= settings.LOGIN_MAX_FAILURES or by_ip >= settings.LOGIN_MAX_FAILURES * 4


def record_failure(username: str, ip: str | None) -> None:
    LoginAttempt.objects.create(username=username[:150], ip=ip)


def clear_failures(username: str) -> None:
    LoginAttempt.objects.filter(Q(username__iexact=username)).delete()
