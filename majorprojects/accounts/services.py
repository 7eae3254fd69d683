"""State changes on accounts. Each writes one audit event."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from majorprojects.audit.services import event_record

from .models import ApiToken, Role, User

ACCOUNT_FIELDS = ["username", "full_name", "phone", "role", "unit", "region", "email"]


def _check_role_fields(role: str, unit, region) -> dict[str, str]:
    errors = {}
    if role == Role.COUNTY and region is None:
        errors["region"] = "县市区账号须指定管辖区域。"
    if role in (Role.DEPARTMENT, Role.PROJECT_UNIT) and unit is None:
        errors["unit"] = "部门和项目单位账号须指定所属单位。"
    return errors


@transaction.atomic
def account_create(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    phone: str = "",
    email: str = "",
    unit=None,
    region=None,
) -> User:
    user = User(
        username=username, role=role, full_name=full_name, phone=phone, email=email, unit=unit, region=region
    )
    errors = _check_role_fields(role, unit, region)
    if errors:
        raise ValidationError(errors)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    event_record(
        actor=actor,
        verb="account_create",
        target=user,
        details={"role": role, "unit": str(unit or ""), "region": str(region or "")},
    )
    return user


@transaction.atomic
def account_update(*, actor: User, account: User, **fields) -> User:
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.pk == actor.pk and "role" in fields and fields["role"] != account.role:
        raise PermissionDenied("不能修改自己账号的角色。")
    before = {name: getattr(account, name) for name in ACCOUNT_FIELDS}
    for name, value in fields.items():
        if name not in ACCOUNT_FIELDS:
            raise ValueError(f"unknown account field {name}")
        setattr(account, name, value)
    errors = _check_role_fields(account.role, account.unit, account.region)
    if errors:
        raise ValidationError(errors)
    account.full_clean(exclude=["password"])
    changed = [name for name in ACCOUNT_FIELDS if before[name] != getattr(account, name)]
    if changed:
        account.save(update_fields=changed)
        event_record(
            actor=actor,
            verb="account_update",
            target=account,
            details={name: [str(before[name] or ""), str(getattr(account, name) or "")] for name in changed},
        )
    return account


@transaction.atomic
def account_set_active(*, actor: User, account: User, active: bool) -> User:
    if account.pk == actor.pk and not active:
        raise PermissionError("不能停用自己的账号。")
    account.is_active = active
    account.save(update_fields=["is_active"])
    if not active:
        ApiToken.objects.filter(user=account, revoked=False).update(revoked=True)
    event_record(actor=actor, verb="account_enable" if active else "account_disable", target=account)
    return account


@transaction.atomic
def account_set_password(*, actor: User, account: User, password: str) -> User:
    validate_password(password, account)
    account.set_password(password)
    account.save(update_fields=["password"])
    event_record(
        actor=actor, verb="account_password", target=account, details={"self": actor.pk == account.pk}
    )
    return account


@transaction.atomic
def token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for `actor`; the key is returned once and only its hash is stored."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=actor, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:8])
    event_record(actor=actor, verb="token_create", target=token, target_label=f"{name} ({token.prefix}…)")
    return token, key


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    token.revoked = True
    token.save(update_fields=["revoked"])
    event_record(
        actor=actor, verb="token_revoke", target=token, target_label=f"{token.name} ({token.prefix}…)"
    )
