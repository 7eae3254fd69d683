"""Cross-cutting HTTP concerns: security headers (CSP) and login-required by default."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # ECharts and Bootstrap set element styles from script; inline <style> is not used.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


PUBLIC_PREFIXES = ("/accounts/login/", "/static/", "/api/", "/healthz")


class LoginRequiredMiddleware:
    """Every page needs a signed-in user, except login, static files and the API (own auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}")
        return self.get_response(request)
