from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from majorprojects.audit.middleware import client_ip
from majorprojects.audit.services import event_record

from . import services, throttle
from .forms import AccountForm, LoginForm, PasswordForm, TokenForm
from .models import ApiToken, Role, User
from .scope import can_manage_accounts


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        ip = client_ip(request)
        if throttle.is_locked(username, ip):
            minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
            form.add_error(None, f"登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试。")
            event_record(actor=None, verb="login_locked", target_type="user", target_label=username)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                throttle.record_failure(username, ip)
                form.add_error(None, "用户名或密码不正确，或账号已停用。")
            else:
                throttle.clear_failures(username)
                login(request, user)
                event_record(actor=user, verb="login", target=user)
                if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                    next_url = ""
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        event_record(actor=request.user, verb="logout", target=request.user)
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_set_password(
                actor=request.user, account=request.user, password=form.cleaned_data["new_password"]
            )
        except ValidationError as exc:
            form.add_error("new_password", exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改。")
            return redirect("core:home")
    return render(request, "accounts/password.html", {"form": form})


def _require_manager(request):
    if not can_manage_accounts(request.user):
        raise PermissionDenied("仅安全审计管理员可管理账号。")


def account_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    accounts = User.objects.select_related("unit", "region").order_by("role", "username")
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if q:
        accounts = accounts.filter(
            Q(username__icontains=q) | Q(full_name__icontains=q) | Q(unit__name__icontains=q)
        )
    if role:
        accounts = accounts.filter(role=role)
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    return render(
        request, "accounts/account_list.html", {"page": page, "q": q, "role": role, "roles": Role.choices}
    )


@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = AccountForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.account_create(actor=request.user, **data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"账号 {data['username']} 已创建。")
            return redirect("accounts:list")
    return render(request, "accounts/account_form.html", {"form": form, "creating": True})


@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    account = get_object_or_404(User, pk=pk)
    form = AccountForm(request.POST or None, instance=User.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("role", str(exc))
        else:
            messages.success(request, f"账号 {account.username} 已保存。")
            return redirect("accounts:list")
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


@require_POST
def account_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    account = get_object_or_404(User, pk=pk)
    try:
        services.account_set_active(actor=request.user, account=account, active=not account.is_active)
    except PermissionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"账号 {account.username} 已{'启用' if account.is_active else '停用'}。")
    return redirect("accounts:list")


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.token_create(actor=request.user, name=form.cleaned_data["name"])
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, f"令牌“{token.name}”已吊销。")
    return redirect("accounts:tokens")


def _attach_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error("password" if "password" in form.fields else None, exc.messages)
