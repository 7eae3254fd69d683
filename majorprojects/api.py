"""The REST API (django-ninja), OpenAPI at /api/docs. Same scope rules as the UI: every endpoint
reads through accounts.scope and changes through the apps' services."""

from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from majorprojects.accounts.models import ApiToken


def _user_for_key(key: str):
    token = (
        ApiToken.objects.select_related("user", "user__region", "user__unit")
        .filter(key_hash=ApiToken.hash_key(key), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


class BearerToken(HttpBearer):
    """`Authorization: Bearer <key>` with a key from the account's API-token page."""

    def authenticate(self, request, token):
        user = _user_for_key(token)
        if user is not None:
            request.user = user
        return user


class HeaderToken(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request, key):
        user = _user_for_key(key or "")
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="重大项目调度平台 API",
    version="1",
    description="项目库、组织机构等数据接口。认证：会话（浏览器）或 `Authorization: Bearer <令牌>`。"
    "数据范围与网页一致。",
    auth=[BearerToken(), HeaderToken(), django_auth],
    urls_namespace="api",
)

from majorprojects.organisation.api import router as organisation_router  # noqa: E402
from majorprojects.projects.api import router as projects_router  # noqa: E402

api.add_router("/", organisation_router)
api.add_router("/projects", projects_router)
