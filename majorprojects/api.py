"""The REST API (django-ninja), OpenAPI at /api/docs. Same scope rules as the UI: every endpoint
reads through accounts.scope and changes through the apps' services.

Error bodies (docs/api.md):
- 401/403/404/409: {"detail": "中文信息"}
- 422: {"detail": [{"loc": ["body", "total_investment"], "msg": "中文信息", "type": "..."}]}
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from majorprojects.accounts.models import ApiToken
from majorprojects.core.errors import ConflictError

# --- Authentication ---------------------------------------------------------------------


def _user_for_key(key: str):
    token = (
        ApiToken.objects.select_related("user", "user__region", "user__unit")
        .filter(key_hash=ApiToken.hash_key(key), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # "last used" to the minute: a county's clients share one token, and writing its row on every
    # request would serialise them at month's end.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _token_login(request, key: str):
    user = _user_for_key(key or "")
    if user is not None:
        request.user = user
        request.auth_method = "token"
    return user


class BearerToken(HttpBearer):
    """`Authorization: Bearer <key>` with a key from the account's API-token page."""

    def authenticate(self, request, token):
        return _token_login(request, token)


class HeaderToken(APIKeyHeader):
    """`X-API-Key: <key>`, for clients that cannot set an Authorization header."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _token_login(request, key)


class SessionAuth(APIKeyCookie):
    """The browser session (e.g. the docs page). Unsafe methods need the CSRF token in the
    `X-CSRFToken` header. Without a signed-in session this is simply "not authenticated" (401),
    so a bad token on a POST is reported as 401, not as a CSRF failure."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if check_csrf(request):
            raise HttpError(403, "CSRF 校验失败：以浏览器会话调用写操作时须在 X-CSRFToken 请求头中提供令牌。")
        request.auth_method = "session"
        return user

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return None


# --- Validation messages ------------------------------------------------------------------

# pydantic error type → Chinese message (str.format with the error's ctx).
MESSAGES = {
    "missing": "此项为必填项。",
    "int_parsing": "请填写整数。",
    "int_type": "请填写整数。",
    "int_from_float": "请填写整数。",
    "float_parsing": "请填写数字。",
    "float_type": "请填写数字。",
    "decimal_parsing": "请填写数字。",
    "decimal_type": "请填写数字。",
    "decimal_max_digits": "数字位数过多（最多 {max_digits} 位）。",
    "decimal_max_places": "小数位数过多（最多 {decimal_places} 位）。",
    "string_type": "请填写文本。",
    "string_too_long": "最多 {max_length} 个字符。",
    "string_too_short": "至少 {min_length} 个字符。",
    "bool_parsing": "请填写 true 或 false。",
    "bool_type": "请填写 true 或 false。",
    "date_parsing": "请填写有效日期，格式 YYYY-MM-DD。",
    "date_from_datetime_parsing": "请填写有效日期，格式 YYYY-MM-DD。",
    "date_from_datetime_inexact": "请填写日期（不含时间），格式 YYYY-MM-DD。",
    "date_type": "请填写有效日期，格式 YYYY-MM-DD。",
    "datetime_parsing": "请填写有效的日期时间。",
    "datetime_type": "请填写有效的日期时间。",
    "enum": "请选择以下之一：{expected}。",
    "literal_error": "请选择以下之一：{expected}。",
    "greater_than": "须大于 {gt}。",
    "greater_than_equal": "不能小于 {ge}。",
    "less_than": "须小于 {lt}。",
    "less_than_equal": "不能大于 {le}。",
    "list_type": "请提供列表。",
    "dict_type": "请提供对象（键值对）。",
    "model_type": "请求体应为 JSON 对象。",
    "model_attributes_type": "请求体应为 JSON 对象。",
    "too_long": "最多 {max_length} 项。",
    "json_invalid": "JSON 格式有误。",
}


def _message(error: dict) -> str:
    ctx = dict(error.get("ctx") or {})
    if error["type"] == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    if "expected" in ctx:
        ctx["expected"] = str(ctx["expected"]).replace("'", "").replace(" or ", ", ").replace(", ", "、")
    template = MESSAGES.get(error["type"])
    if template is None:
        return "取值无效。"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return "取值无效。"


def _loc(loc) -> list:
    """("body", "payload", "name") → ["body", "name"]: every body parameter is named `payload`."""
    parts = [p for p in loc if p != "[key]"]
    if len(parts) > 1 and parts[0] == "body" and parts[1] == "payload":
        del parts[1]
    return parts


def field_error(loc: list, msg: str, type_: str = "invalid") -> dict:
    return {"loc": loc, "msg": msg, "type": type_}


class PlatformAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts) -> ValidationError:
        """Request validation errors in the documented shape, with Chinese messages."""
        exc = super().validation_error_from_error_contexts(error_contexts)
        return ValidationError([field_error(_loc(e["loc"]), _message(e), e["type"]) for e in exc.errors])


api = PlatformAPI(
    title="重大项目调度平台 API",
    version="1",
    description=(
        "项目库、组织机构等数据接口，数据范围与网页完全一致。\n\n"
        "认证：`Authorization: Bearer <令牌>` 或 `X-API-Key: <令牌>`（令牌在“接口令牌”页面生成），"
        "或浏览器会话（写操作须带 `X-CSRFToken`）。\n\n"
        '错误：401/403/404/409 返回 `{"detail": "中文信息"}`；'
        '422 返回 `{"detail": [{"loc": [...], "msg": "中文信息", "type": "..."}]}`。\n\n'
        '金额单位为万元，以两位小数的字符串返回（如 `"12345.00"`），从不使用浮点数。'
    ),
    auth=[BearerToken(), HeaderToken(), SessionAuth()],
    urls_namespace="api",
)


# --- Errors ---------------------------------------------------------------------------------


def django_validation_errors(exc: DjangoValidationError, where: str = "body") -> list[dict]:
    """A Django ValidationError (from a form, a service or a model) as 422 items. Keys are the
    API's field names; a dotted key ("funding.bank_loan") names a nested field."""
    if not hasattr(exc, "error_dict"):
        return [
            field_error([where], msg, error.code or "invalid")
            for error in exc.error_list
            for msg in error.messages
        ]
    items = []
    for field, errors in exc.error_dict.items():
        loc = [where] if field == NON_FIELD_ERRORS else [where, *field.split(".")]
        for error in errors:
            for msg in error.messages:
                items.append(field_error(loc, msg, error.code or "invalid"))
    return items


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc):
    where = "query" if request.method in ("GET", "HEAD") else "body"
    return api.create_response(request, {"detail": django_validation_errors(exc, where)}, status=422)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "无权执行此操作。"}, status=403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "记录不存在或无权访问。"}, status=404)


@api.exception_handler(ConflictError)
def on_conflict(request, exc):
    return api.create_response(request, {"detail": exc.message}, status=409)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    message = "请求体不是有效的 JSON。" if str(exc).startswith("Cannot parse request body") else str(exc)
    return api.create_response(request, {"detail": message}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    response = api.create_response(
        request,
        {"detail": "未认证：请提供有效的接口令牌（Authorization: Bearer 或 X-API-Key），或先登录。"},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


from majorprojects.organisation.api import router as organisation_router  # noqa: E402
from majorprojects.projects.api import router as projects_router  # noqa: E402
from majorprojects.reporting.api import router as reporting_router  # noqa: E402

api.add_router("/", organisation_router)
api.add_router("/projects", projects_router)
api.add_router("/", reporting_router)
api.add_router("/funds", "majorprojects.funds.api.router")
api.add_router("/problems", "majorprojects.problems.api.router")
api.add_router("/approvals", "majorprojects.approvals.api.router")
api.add_router("/alerts", "majorprojects.alerts.api.router")
