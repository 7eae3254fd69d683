"""Sign-in, throttling, passwords, account management (security admin) and API tokens."""

import pytest
from django.core.exceptions import ValidationError

from majorprojects.accounts import services
from majorprojects.accounts.models import ApiToken, Role, User
from majorprojects.audit.models import Event


def test_login_success_and_logout_are_audited(client, users, password):
    response = client.post("/accounts/login/", {"username": "linchuan", "password": password})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Event.objects.filter(verb="login", actor=users["linchuan"]).exists()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/projects/").status_code == 302


def test_pages_need_login(client, db):
    response = client.get("/projects/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/projects/")


def test_login_throttled_after_repeated_failures(client, users, password, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "linchuan", "password": "wrong"})
        assert "用户名或密码不正确" in response.content.decode()
    response = client.post("/accounts/login/", {"username": "linchuan", "password": password})
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_next_cannot_redirect_offsite(client, users, password):
    response = client.post(
        "/accounts/login/", {"username": "linchuan", "password": password, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_disabled_account_cannot_log_in(client, users, password):
    services.account_set_active(actor=users["auditor"], account=users["linchuan"], active=False)
    response = client.post("/accounts/login/", {"username": "linchuan", "password": password})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("weak", ["short1A", "alllowercase", "abcdefgh123", "ABCDEFGH123"])
def test_password_rules(users, weak):
    with pytest.raises(ValidationError):
        services.account_set_password(actor=users["admin"], account=users["admin"], password=weak)


def test_password_change_page(client, users, password):
    client.force_login(users["linchuan"])
    response = client.post(
        "/accounts/password/", {"old_password": password, "new_password": "abc", "new_password2": "abc"}
    )
    assert response.status_code == 200
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password": "Qingshan#2027x", "new_password2": "Qingshan#2027x"},
    )
    assert response.status_code == 302
    users["linchuan"].refresh_from_db()
    assert users["linchuan"].check_password("Qingshan#2027x")


def test_security_admin_creates_and_disables_accounts(client, users, city):
    client.force_login(users["auditor"])
    response = client.post(
        "/accounts/new/",
        {"username": "baisha", "full_name": "白沙县发改局", "role": Role.COUNTY, "password": "Yunjiang#Bs9"},
    )
    assert "县市区账号须指定管辖区域。" in response.content.decode()
    response = client.post(
        "/accounts/new/",
        {
            "username": "baisha",
            "full_name": "白沙县发改局",
            "role": Role.COUNTY,
            "region": city["qingshan"].pk,
            "password": "Yunjiang#Bs9",
        },
    )
    assert response.status_code == 302
    account = User.objects.get(username="baisha")
    assert account.check_password("Yunjiang#Bs9") and account.region == city["qingshan"]
    client.post(f"/accounts/{account.pk}/toggle/")
    account.refresh_from_db()
    assert not account.is_active
    verbs = set(Event.objects.filter(actor=users["auditor"]).values_list("verb", flat=True))
    assert {"account_create", "account_disable"} <= verbs


def test_security_admin_cannot_disable_self(users):
    with pytest.raises(PermissionError):
        services.account_set_active(actor=users["auditor"], account=users["auditor"], active=False)


def test_other_roles_cannot_manage_accounts(client, users):
    for name in ("admin", "linchuan", "owner_a"):
        client.force_login(users[name])
        assert client.get("/accounts/").status_code == 403
        assert client.post("/accounts/new/", {}).status_code == 403


def test_token_shown_once_and_stored_hashed(client, users):
    client.force_login(users["linchuan"])
    response = client.post("/accounts/tokens/", {"name": "省平台交换"})
    key = response.context["new_key"]
    token = ApiToken.objects.get(user=users["linchuan"])
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    assert key not in client.get("/accounts/tokens/").content.decode()
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked


def test_disabling_account_revokes_tokens(users):
    token, _key = services.token_create(actor=users["linchuan"], name="x")
    services.account_set_active(actor=users["auditor"], account=users["linchuan"], active=False)
    token.refresh_from_db()
    assert token.revoked


def test_security_headers(client, users):
    client.force_login(users["admin"])
    response = client.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_security_admin_cannot_promote_itself(client, users):
    auditor = users["auditor"]
    client.force_login(auditor)
    response = client.post(f"/accounts/{auditor.pk}/edit/", {"username": "auditor", "role": Role.CITY_ADMIN})
    assert "不能修改自己账号的角色" in response.content.decode()
    auditor.refresh_from_db()
    assert auditor.role == Role.AUDITOR
