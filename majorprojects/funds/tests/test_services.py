"""Funds services: bad input refused with Chinese messages naming the field and nothing written,
edit conflicts, and who may do what (owner, county, department, outsider, leader, city admin)."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from majorprojects.audit.models import Event
from majorprojects.core.errors import ConflictError
from majorprojects.funds import services
from majorprojects.funds.models import Allocation, Loan, LoanRelease, Movement, Programme

from .conftest import allocate, move


def errors_of(excinfo) -> dict:
    return {k: " ".join(v) for k, v in excinfo.value.message_dict.items()}


@pytest.fixture
def alloc(users, projects, progs):
    """1000 万元 of 中央预算内 on project a, issued 2026-03-01."""
    return allocate(
        users["admin"],
        projects["a"],
        progs["central_budget"],
        "1000",
        date(2026, 3, 1),
        "发改投资〔2026〕1号",
    )


@pytest.fixture
def unchanged():
    """Asserts, after the block, that no movement, allocation or event was written."""

    def counts():
        return (
            Allocation.objects.count(),
            Movement.objects.count(),
            Event.objects.count(),
            Loan.objects.count(),
        )

    class Check:
        def __enter__(self):
            self.before = counts()

        def __exit__(self, *exc):
            assert counts() == self.before
            return False

    return Check


# --- allocations -----------------------------------------------------------------------------


def test_allocation_create_writes_an_event(alloc):
    event = Event.objects.get(verb="allocation_create")
    assert event.project_id == alloc.project_id
    assert event.details["amount"] == "1000.00" or event.details["amount"] == "1000"
    assert event.details["document_no"] == "发改投资〔2026〕1号"


def test_duplicate_document_number_refused(alloc, users, projects, progs, unchanged):
    with unchanged(), pytest.raises(ValidationError) as exc:
        allocate(
            users["admin"],
            projects["a"],
            progs["central_budget"],
            "200",
            date(2026, 4, 1),
            "发改投资〔2026〕1号",
        )
    assert errors_of(exc) == {
        "document_no": "下达文号“发改投资〔2026〕1号”已在本项目的中央预算内投资中登记，不能重复登记。"
    }
    # The same document may allocate to another project, or under another programme.
    allocate(
        users["admin"], projects["b"], progs["central_budget"], "200", date(2026, 4, 1), "发改投资〔2026〕1号"
    )
    allocate(
        users["admin"],
        projects["a"],
        progs["ultra_long_bond"],
        "200",
        date(2026, 4, 1),
        "发改投资〔2026〕1号",
    )


@pytest.mark.parametrize(
    ("amount", "issued_on", "document_no", "expected"),
    [
        ("-5", date(2026, 3, 1), "X1", {"amount": "下达金额不能为负数。"}),
        (D("-5"), date(2026, 3, 1), "X1", {"amount": "下达金额不能为负数。"}),
        ("0", date(2026, 3, 1), "X1", {"amount": "下达金额须大于 0 万元。"}),
        ("abc", date(2026, 3, 1), "X1", {"amount": "下达金额：无法识别的金额“abc”。"}),
        (None, date(2026, 3, 1), "X1", {"amount": "请填写下达金额（万元）。"}),
        ("100", date(2026, 12, 1), "X1", {"issued_on": "下达日期不能晚于今天。"}),
        ("100", None, " ", {"issued_on": "请填写下达日期。", "document_no": "请填写下达文号。"}),
    ],
)
def test_bad_allocation_refused(users, projects, progs, unchanged, amount, issued_on, document_no, expected):
    with unchanged(), pytest.raises(ValidationError) as exc:
        services.allocation_create(
            actor=users["admin"],
            project=projects["a"],
            programme=progs["central_budget"],
            document_no=document_no,
            issued_on=issued_on,
            amount=amount,
        )
    assert errors_of(exc) == expected


def test_inactive_programme_refused(users, projects, progs, unchanged):
    Programme.objects.filter(code="other").update(is_active=False)
    with unchanged(), pytest.raises(ValidationError) as exc:
        allocate(
            users["admin"], projects["a"], Programme.objects.get(code="other"), "10", date(2026, 3, 1), "X"
        )
    assert errors_of(exc) == {"programme": "资金渠道“其他”已停用。"}


def test_allocation_amount_accepts_units(users, projects, progs):
    a = allocate(
        users["admin"], projects["a"], progs["special_bond"], "0.5亿", date(2026, 3, 1), "湘财债〔2026〕1号"
    )
    assert a.amount == D("5000.00")


def test_allocation_update_and_stale_version(alloc, users):
    stale = Allocation.objects.get(pk=alloc.pk)
    updated = services.allocation_update(
        actor=users["admin"],
        allocation=alloc,
        fields={"amount": D("1100"), "batch": "第二批"},
        expected_version=1,
    )
    assert (updated.amount, updated.batch, updated.version) == (D("1100"), "第二批", 2)
    event = Event.objects.get(verb="allocation_update")
    assert set(event.details) == {"amount", "batch"}
    with pytest.raises(ConflictError) as exc:
        services.allocation_update(
            actor=users["linchuan"],
            allocation=stale,
            fields={"amount": D("900")},
            expected_version=stale.version,
        )
    assert exc.value.message == "该记录已被他人修改，请刷新页面后重新编辑。"
    alloc.refresh_from_db()
    assert (alloc.amount, alloc.version) == (D("1100.00"), 2)


def test_allocation_update_cannot_fall_below_payments_or_pass_first_movement(alloc, users, unchanged):
    move(users["admin"], alloc, "payment", date(2026, 4, 1), "600")
    with unchanged(), pytest.raises(ValidationError) as exc:
        services.allocation_update(
            actor=users["admin"], allocation=alloc, fields={"amount": "500"}, expected_version=1
        )
    assert errors_of(exc) == {"amount": "下达金额不能少于已支付的 600.00 万元。"}
    with unchanged(), pytest.raises(ValidationError) as exc:
        services.allocation_update(
            actor=users["admin"], allocation=alloc, fields={"issued_on": date(2026, 5, 1)}, expected_version=1
        )
    assert errors_of(exc) == {"issued_on": "下达日期不能晚于已登记的到位/拨付/支付日期 2026-04-01。"}
    alloc.refresh_from_db()
    assert alloc.version == 1  # the refused edit left the version as it was


def test_allocation_update_to_a_duplicate_document(alloc, users, projects, progs):
    other = allocate(
        users["admin"], projects["a"], progs["central_budget"], "10", date(2026, 3, 2), "发改投资〔2026〕2号"
    )
    with pytest.raises(ValidationError) as exc:
        services.allocation_update(
            actor=users["admin"], allocation=other, fields={"document_no": "发改投资〔2026〕1号"}
        )
    assert "document_no" in exc.value.message_dict


def test_allocation_delete(alloc, users):
    move(users["admin"], alloc, "arrival", date(2026, 3, 5), "100")
    with pytest.raises(ValidationError):
        services.allocation_delete(actor=users["admin"], allocation=alloc)
    Movement.objects.all().delete()
    services.allocation_delete(actor=users["admin"], allocation=Allocation.objects.get(pk=alloc.pk))
    assert not Allocation.objects.exists()
    assert Event.objects.filter(verb="allocation_delete", project=alloc.project).exists()


# --- movements -------------------------------------------------------------------------------


def test_payment_above_allocation_refused(alloc, users, unchanged):
    move(users["admin"], alloc, "payment", date(2026, 4, 1), "700")
    with unchanged(), pytest.raises(ValidationError) as exc:
        move(users["owner_a"], alloc, "payment", date(2026, 5, 1), "300.01")
    assert errors_of(exc) == {
        "amount": "累计支付 1000.01 万元将超过下达金额 1000.00 万元（已支付 700.00 万元，本次最多 300.00 万元）。"
    }
    move(users["owner_a"], alloc, "payment", date(2026, 5, 1), "300")  # exactly the rest is fine


def test_each_kind_is_capped_separately(alloc, users):
    move(users["admin"], alloc, "arrival", date(2026, 3, 2), "1000")
    move(users["admin"], alloc, "transfer", date(2026, 3, 3), "1000")
    move(users["admin"], alloc, "payment", date(2026, 3, 4), "1000")
    with pytest.raises(ValidationError) as exc:
        move(users["admin"], alloc, "arrival", date(2026, 3, 5), "1")
    assert "累计到位" in errors_of(exc)["amount"]


@pytest.mark.parametrize(
    ("kind", "on_date", "amount", "expected"),
    [
        ("payment", date(2026, 2, 28), "10", {"on_date": "支付日期不能早于下达日期 2026-03-01。"}),
        ("arrival", date(2026, 2, 1), "10", {"on_date": "到位日期不能早于下达日期 2026-03-01。"}),
        ("payment", date(2026, 11, 21), "10", {"on_date": "支付日期不能晚于今天。"}),
        ("payment", date(2026, 4, 1), "-10", {"amount": "支付金额不能为负数。"}),
        ("transfer", date(2026, 4, 1), D("-0.01"), {"amount": "拨付金额不能为负数。"}),
        ("payment", date(2026, 4, 1), "0", {"amount": "支付金额须大于 0 万元。"}),
        ("payment", None, None, {"on_date": "请填写支付日期。", "amount": "请填写支付金额（万元）。"}),
        ("refund", date(2026, 4, 1), "10", {"kind": "请选择类型：到位、拨付或支付。"}),
    ],
)
def test_bad_movement_refused(alloc, users, unchanged, kind, on_date, amount, expected):
    # the county records every kind (a project unit only payments: test_review_fixes.py)
    with unchanged(), pytest.raises(ValidationError) as exc:
        services.movement_add(
            actor=users["linchuan"], allocation=alloc, kind=kind, on_date=on_date, amount=amount
        )
    assert errors_of(exc) == expected


def test_movement_add_and_delete_write_events(alloc, users):
    m = move(users["owner_a"], alloc, "payment", date(2026, 4, 1), "50")
    assert (
        Event.objects.filter(verb="funds_payment", project=alloc.project, actor=users["owner_a"]).count() == 1
    )
    services.movement_delete(actor=users["owner_a"], movement=m)
    assert not Movement.objects.exists()
    assert Event.objects.get(verb="funds_movement_delete").details["amount"] in ("50", "50.00")


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "project", "allowed"),
    [
        ("admin", "a", True),
        ("linchuan", "a", True),  # the county over project a
        ("linchuan", "zone", True),  # the zone sits under 临川区
        ("qingshan", "a", False),  # another county
        ("jtj", "b", True),  # the department governing b's industry
        ("jtj", "a", False),
        ("owner_a", "a", False),  # project units do not record allocations
        ("leader", "a", False),
        ("auditor", "a", False),
    ],
)
def test_who_may_allocate(users, projects, progs, unchanged, who, project, allowed):
    if allowed:
        allocate(users[who], projects[project], progs["central_budget"], "10", date(2026, 3, 1), "X")
        return
    with unchanged(), pytest.raises(PermissionDenied):
        allocate(users[who], projects[project], progs["central_budget"], "10", date(2026, 3, 1), "X")


def test_project_unit_is_told_why(users, projects, progs):
    with pytest.raises(PermissionDenied) as exc:
        allocate(users["owner_a"], projects["a"], progs["central_budget"], "10", date(2026, 3, 1), "X")
    assert str(exc.value) == "资金下达由市级管理员、县市区、行业主管部门或财政部门登记。"
    with pytest.raises(PermissionDenied) as exc:
        allocate(users["qingshan"], projects["a"], progs["central_budget"], "10", date(2026, 3, 1), "X")
    assert str(exc.value) == "项目不存在或无权访问。"


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin", True),
        ("linchuan", True),
        ("owner_a", True),  # the project unit records its own payments
        ("qingshan", False),
        ("jtj", False),
        ("leader", False),
        ("auditor", False),
    ],
)
def test_who_may_record_payments(alloc, users, unchanged, who, allowed):
    if allowed:
        move(users[who], alloc, "payment", date(2026, 4, 1), "10")
        m = Movement.objects.get()
        services.movement_delete(actor=users[who], movement=m)
        return
    with unchanged(), pytest.raises(PermissionDenied):
        move(users[who], alloc, "payment", date(2026, 4, 1), "10")
    m = move(users["admin"], alloc, "payment", date(2026, 4, 1), "10")
    with pytest.raises(PermissionDenied):
        services.movement_delete(actor=users[who], movement=m)
    assert Movement.objects.filter(pk=m.pk).exists()


def test_allocation_edit_permissions(alloc, users):
    for who in ("owner_a", "qingshan", "leader"):
        with pytest.raises(PermissionDenied):
            services.allocation_update(actor=users[who], allocation=alloc, fields={"batch": "x"})
        with pytest.raises(PermissionDenied):
            services.allocation_delete(actor=users[who], allocation=alloc)
    alloc.refresh_from_db()
    assert (alloc.batch, alloc.version) == ("2026年第一批", 1)


def test_programme_edit_is_for_the_city_admin(users, progs):
    programme = progs["special_bond"]
    for who in ("linchuan", "jtj", "owner_a", "leader", "auditor"):
        with pytest.raises(PermissionDenied):
            services.programme_update(actor=users[who], programme=programme, fields={"window_months": 6})
    updated = services.programme_update(
        actor=users["admin"],
        programme=programme,
        fields={"window_months": 6, "idle_months": "", "straight_line": False},
        expected_version=1,
    )
    assert (updated.window_months, updated.idle_months, updated.straight_line, updated.version) == (
        6,
        None,
        False,
        2,
    )
    assert Event.objects.get(verb="programme_update").details["window_months"] == [12, 6]
    with pytest.raises(ConflictError):
        services.programme_update(
            actor=users["admin"], programme=programme, fields={"window_months": 9}, expected_version=1
        )
    with pytest.raises(ValidationError) as exc:
        services.programme_update(
            actor=users["admin"], programme=updated, fields={"window_months": 0, "name": "市级资金"}
        )
    assert errors_of(exc) == {
        "window_months": "使用期限应在 1 到 600 个月之间。",
        "name": "资金渠道“市级资金”已存在。",
    }


def test_programme_create(users):
    programme = services.programme_create(
        actor=users["admin"],
        code="county",
        fields={
            "name": "县级资金",
            "kind": "budget",
            "level": "county",
            "funding_source": "fiscal",
            "idle_months": 6,
        },
    )
    assert (programme.name, programme.idle_months, programme.window_months) == ("县级资金", 6, None)
    with pytest.raises(ValidationError) as exc:
        services.programme_create(
            actor=users["admin"], code="county", fields={"name": "x", "kind": "budget", "level": "county"}
        )
    assert errors_of(exc) == {"code": "代码“county”已被使用。"}
    with pytest.raises(PermissionDenied):
        services.programme_create(
            actor=users["linchuan"], code="c2", fields={"name": "y", "kind": "budget", "level": "county"}
        )


# --- loans -----------------------------------------------------------------------------------


@pytest.fixture
def loan(users, projects, progs):
    return services.loan_create(
        actor=users["owner_a"],
        project=projects["a"],
        fields={
            "bank": "国家开发银行",
            "signed_on": date(2026, 4, 1),
            "amount_signed": "3000",
            "subsidy_applied": "60",
        },
    )


def test_loan_and_releases(loan, users, unchanged):
    services.loan_release_add(actor=users["owner_a"], loan=loan, on_date=date(2026, 4, 10), amount="2000")
    with pytest.raises(ValidationError) as exc:
        services.loan_release_add(actor=users["owner_a"], loan=loan, on_date=date(2026, 3, 31), amount="1")
    assert errors_of(exc) == {"on_date": "投放日期不能早于签约日期 2026-04-01。"}
    with pytest.raises(ValidationError) as exc:
        services.loan_release_add(
            actor=users["owner_a"], loan=loan, on_date=date(2026, 5, 1), amount="1000.5"
        )
    assert errors_of(exc) == {
        "amount": "累计投放 3000.50 万元将超过签约金额 3000.00 万元（已投放 2000.00 万元，本次最多 1000.00 万元）。"
    }
    with pytest.raises(ValidationError) as exc:
        services.loan_update(actor=users["owner_a"], loan=loan, fields={"amount_signed": "1500"})
    assert errors_of(exc) == {"amount_signed": "签约金额不能少于已投放的 2000.00 万元。"}
    assert LoanRelease.objects.count() == 1
    release = LoanRelease.objects.get()
    services.loan_release_delete(actor=users["owner_a"], release=release)
    assert Event.objects.filter(verb__startswith="loan_", project=loan.project).count() == 3


def test_subsidy_granted_is_a_government_record(loan, users):
    with pytest.raises(PermissionDenied):
        services.loan_update(actor=users["owner_a"], loan=loan, fields={"subsidy_granted": "40"})
    loan.refresh_from_db()
    assert (loan.subsidy_granted, loan.version) == (D("0.00"), 1)
    services.loan_update(
        actor=users["linchuan"], loan=loan, fields={"subsidy_granted": "40"}, expected_version=1
    )
    with pytest.raises(ValidationError) as exc:
        services.loan_update(
            actor=users["admin"], loan=Loan.objects.get(pk=loan.pk), fields={"subsidy_granted": "61"}
        )
    assert errors_of(exc) == {"subsidy_granted": "获批贴息 61.00 万元不能超过申请贴息 60.00 万元。"}
    # The project unit may still edit other fields without touching the granted subsidy.
    services.loan_update(
        actor=users["owner_a"],
        loan=Loan.objects.get(pk=loan.pk),
        fields={"contract_no": "HT-1", "subsidy_granted": "40"},
    )


def test_loan_bad_input_and_scope(users, projects, unchanged):
    with unchanged(), pytest.raises(ValidationError) as exc:
        services.loan_create(
            actor=users["owner_a"],
            project=projects["a"],
            fields={"bank": "", "signed_on": None, "amount_signed": "-1"},
        )
    assert errors_of(exc) == {
        "bank": "请填写贷款银行。",
        "signed_on": "请填写签约日期。",
        "amount_signed": "签约金额不能为负数。",
    }
    for who in ("qingshan", "leader", "jtj"):
        with unchanged(), pytest.raises(PermissionDenied):
            services.loan_create(
                actor=users[who],
                project=projects["a"],
                fields={"bank": "x", "signed_on": date(2026, 1, 1), "amount_signed": "1"},
            )


def test_loan_stale_version(loan, users):
    stale = Loan.objects.get(pk=loan.pk)
    services.loan_update(actor=users["owner_a"], loan=loan, fields={"contract_no": "A"}, expected_version=1)
    with pytest.raises(ConflictError):
        services.loan_update(
            actor=users["linchuan"], loan=stale, fields={"contract_no": "B"}, expected_version=1
        )
    assert Loan.objects.get(pk=loan.pk).contract_no == "A"
