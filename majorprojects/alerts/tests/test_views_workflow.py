"""The warning's workflow through the pages: notify, plan, rectified (with a file), strike off,
reopen, ask for and decide a justification — each with the owner (project unit), the county,
an outsider and the city admin; bad input shows per-field errors, a stale form the conflict
message, a step not allowed is 403, out of scope 404, GET on a step 405. Data: test_views.lit."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from majorprojects.alerts import services
from majorprojects.alerts.models import Exemption, ExemptionStatus, Status, Warning
from majorprojects.audit.models import Event

from .fakes import fake, rule_factory  # noqa: F401
from .test_views import as_user, flash, lit  # noqa: F401

# The fixtures imported above are parameters of the tests below (pytest injects them by name).
# ruff: noqa: F811

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%test\n"


def url(warning, step=""):
    return f"/alerts/warnings/{warning.pk}/{step + '/' if step else ''}"


def fresh(warning) -> Warning:
    return Warning.objects.get(pk=warning.pk)


def post(client, warning, step, prefix, data, **extra):
    return client.post(url(warning, step), {f"{prefix}-{k}": v for k, v in data.items()}, **extra)


def plan_data(version, deadline="2026-12-31", plan="加快征地拆迁，12月底前开工"):
    return {"version": version, "plan": plan, "deadline": deadline}


# --- What the page offers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,steps",
    [
        ("admin", ["notify", "plan", "request_exemption"]),
        ("linchuan", ["notify", "plan", "request_exemption"]),
        ("owner_a", ["plan", "request_exemption"]),
        ("leader", []),
    ],
)
def test_the_page_offers_the_steps_the_user_may_take(client, users, lit, who, steps):
    response = as_user(client, users[who]).get(url(lit["a"]))
    assert [s["key"] for s in response.context["steps"]] == steps
    assert "为什么亮灯" in response.content.decode()


def test_the_page_shows_history_and_carry_over(client, users, lit):
    response = as_user(client, users["admin"]).get(url(lit["a"]))
    assert [w.pk for w in response.context["history"]] == [lit["a"].pk, lit["a_sep"].pk]
    html = response.content.decode()
    assert "同一规则历次预警" in html and "（本条）" in html


# --- notify ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,status", [("admin", 302), ("linchuan", 302), ("owner_a", 403), ("qingshan", 404)]
)
def test_notify(client, users, lit, who, status):
    response = post(
        as_user(client, users[who]), lit["a"], "notify", "notify", {"version": 1, "note": "请月底前整改"}
    )
    assert response.status_code == status
    assert fresh(lit["a"]).status == (Status.NOTIFIED if status == 302 else Status.ISSUED)


def test_steps_are_post_only(client, users, lit):
    as_user(client, users["admin"])
    for step in ("notify", "plan", "rectified", "strike-off", "reopen", "exemption", "exemption/decide"):
        assert client.get(url(lit["a"], step)).status_code == 405


# --- plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("owner_a", 302), ("linchuan", 302), ("admin", 302), ("qingshan", 404),
                                        ("jtj", 404), ("leader", 403)])  # fmt: skip
def test_plan(client, users, lit, who, status):
    response = post(as_user(client, users[who]), lit["a"], "plan", "plan", plan_data(1))
    assert response.status_code == status
    w = fresh(lit["a"])
    if status == 302:
        assert w.status == Status.RECTIFYING and w.deadline == date(2026, 12, 31)
        assert Event.objects.filter(verb="warning_plan", target_id=str(w.pk), actor=users[who]).exists()
    else:
        assert w.status == Status.ISSUED and w.plan == ""


def test_plan_errors_show_under_their_fields(client, users, lit):
    as_user(client, users["owner_a"])
    response = post(client, lit["a"], "plan", "plan", plan_data(1, deadline="", plan=""))
    assert response.status_code == 200
    form = response.context["steps"][0]["form"]
    assert set(form.errors) == {"plan", "deadline"}
    response = post(client, lit["a"], "plan", "plan", plan_data(1, deadline="2026-11-01"))
    assert response.status_code == 200
    plan_form = next(s["form"] for s in response.context["steps"] if s["key"] == "plan")
    assert plan_form.errors["deadline"] == ["整改时限不能早于今天。"]
    assert response.context["open_step"] == "plan"
    assert client.get(url(lit["a"])).context["open_step"] == "plan"
    assert fresh(lit["a"]).status == Status.ISSUED


def test_a_stale_plan_shows_the_conflict_and_keeps_the_text(client, users, lit):
    services.warning_notify(actor=users["admin"], warning=lit["a"])  # version 1 → 2 meanwhile
    as_user(client, users["owner_a"])
    response = post(client, lit["a"], "plan", "plan", plan_data(1, plan="我写的措施"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "该预警已被他人处理，请刷新页面后重试。" in html and "我写的措施" in html
    assert 'name="plan-version" value="2"' in html
    assert fresh(lit["a"]).plan == ""


# --- rectified ------------------------------------------------------------------------------


@pytest.fixture
def rectifying(users, lit):
    return services.warning_plan(
        actor=users["owner_a"], warning=lit["a"], plan="加快征地", deadline=date(2026, 12, 31)
    )


def test_rectified_with_a_supporting_file(client, users, lit, rectifying):
    as_user(client, users["owner_a"])
    upload = SimpleUploadedFile("开工报告.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url(rectifying, "rectified"),
        {
            "rectified-version": rectifying.version,
            "rectified-rectification": "已于11月20日开工",
            "rectified-file": upload,
        },
    )
    assert response.status_code == 302
    w = fresh(rectifying)
    assert w.status == Status.RECTIFIED and w.attachment.original_name == "开工报告.pdf"
    html = client.get(url(w)).content.decode()
    assert "开工报告.pdf" in html and "已于11月20日开工" in html


def test_rectified_refuses_a_bad_file_under_the_file_field(client, users, lit, rectifying):
    as_user(client, users["owner_a"])
    upload = SimpleUploadedFile("病毒.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        url(rectifying, "rectified"),
        {
            "rectified-version": rectifying.version,
            "rectified-rectification": "已开工",
            "rectified-file": upload,
        },
    )
    assert response.status_code == 200
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "rectified")
    assert form.errors
    assert fresh(rectifying).status == Status.RECTIFYING


@pytest.mark.parametrize("who,status", [("owner_a", 302), ("qingshan", 404), ("leader", 403)])
def test_rectified_by_whom(client, users, lit, rectifying, who, status):
    response = post(
        as_user(client, users[who]), rectifying, "rectified", "rectified",
        {"version": rectifying.version, "rectification": "已开工"},
    )  # fmt: skip
    assert response.status_code == status


def test_rectified_before_a_plan_is_refused_with_the_state(client, users, lit):
    as_user(client, users["owner_a"])
    response = post(client, lit["a"], "rectified", "rectified", {"version": 1, "rectification": "已开工"})
    assert response.status_code == 200
    assert "不能报送整改完成" in response.content.decode()


def test_a_region_warning_has_no_file_field(client, users, lit):
    w = services.warning_plan(
        actor=users["linchuan"], warning=lit["region"], plan="加快入库", deadline=date(2026, 12, 31)
    )
    response = as_user(client, users["linchuan"]).get(url(w))
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "rectified")
    assert "file" not in form.fields


# --- strike off and reopen ------------------------------------------------------------------


@pytest.fixture
def rectified(users, rectifying):
    return services.warning_mark_rectified(actor=users["owner_a"], warning=rectifying, rectification="已开工")


@pytest.mark.parametrize(
    "who,status", [("admin", 302), ("linchuan", 403), ("owner_a", 403), ("qingshan", 404)]
)
def test_strike_off_is_the_citys(client, users, rectified, who, status):
    response = post(
        as_user(client, users[who]),
        rectified,
        "strike-off",
        "strike_off",
        {"version": rectified.version, "note": "核验属实"},
    )
    assert response.status_code == status
    assert fresh(rectified).status == (Status.STRUCK_OFF if status == 302 else Status.RECTIFIED)


def test_strike_off_success_message(client, users, rectified):
    response = post(
        as_user(client, users["admin"]), rectified, "strike-off", "strike_off",
        {"version": rectified.version}, follow=True,
    )  # fmt: skip
    assert "已核验销号。" in flash(response)


@pytest.mark.parametrize("who,status", [("admin", 302), ("linchuan", 403), ("owner_a", 403)])
def test_reopen(client, users, rectified, who, status):
    response = post(
        as_user(client, users[who]),
        rectified,
        "reopen",
        "reopen",
        {"version": rectified.version, "reason": "未见开工报告"},
    )
    assert response.status_code == status
    assert fresh(rectified).status == (Status.RECTIFYING if status == 302 else Status.RECTIFIED)


def test_reopen_needs_a_reason(client, users, rectified):
    response = post(
        as_user(client, users["admin"]),
        rectified,
        "reopen",
        "reopen",
        {"version": rectified.version, "reason": ""},
    )
    assert response.status_code == 200
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "reopen")
    assert "reason" in form.errors


# --- justifications -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,status", [("owner_a", 302), ("linchuan", 302), ("qingshan", 404), ("leader", 403)]
)
def test_request_exemption(client, users, lit, who, status):
    response = post(
        as_user(client, users[who]), lit["a"], "exemption", "request_exemption",
        {"version": 1, "justification": "受省级用地指标调整影响，推迟开工", "until": "2026-12"},
    )  # fmt: skip
    assert response.status_code == status
    assert Exemption.objects.filter(warning=lit["a"]).exists() == (status == 302)


def test_request_exemption_errors(client, users, lit):
    as_user(client, users["owner_a"])
    response = post(
        client,
        lit["a"],
        "exemption",
        "request_exemption",
        {"version": 1, "justification": "", "until": "2026/12"},
    )
    assert response.status_code == 200
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "request_exemption")
    assert set(form.errors) == {"justification", "until"}
    response = post(
        client,
        lit["a"],
        "exemption",
        "request_exemption",
        {"version": 1, "justification": "理由", "until": "2026-08"},
    )
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "request_exemption")
    assert form.errors["until"] == ["截止月份不能早于预警所在月份。"]


@pytest.fixture
def requested(users, lit):
    return services.exemption_request(
        actor=users["owner_a"], warning=lit["a"], justification="受省级用地指标调整影响"
    )


@pytest.mark.parametrize(
    "who,status", [("admin", 302), ("linchuan", 403), ("owner_a", 403), ("qingshan", 404)]
)
def test_decide_exemption_under_a_city_approved_rule(client, users, lit, requested, who, status):
    response = post(as_user(client, users[who]), lit["a"], "exemption/decide", "decide_exemption",
                    {"version": requested.version, "decision": "approve", "note": "同意"})  # fmt: skip
    assert response.status_code == status
    approved = Exemption.objects.get(pk=requested.pk).status == ExemptionStatus.APPROVED
    assert approved == (status == 302)
    assert (fresh(lit["a"]).status == Status.EXEMPTED) == (status == 302)


def test_the_county_decides_under_a_county_approved_rule(client, users, lit, requested):
    lit["rule"].exemption_approver = "county"
    lit["rule"].save()
    as_user(client, users["linchuan"])
    page = client.get(url(lit["a"]))
    assert "decide_exemption" in [s["key"] for s in page.context["steps"]]
    response = post(client, lit["a"], "exemption/decide", "decide_exemption",
                    {"version": requested.version, "decision": "reject", "note": "理由不充分"}, follow=True)  # fmt: skip
    assert "已不批准正当理由申请。" in flash(response)
    assert Exemption.objects.get(pk=requested.pk).status == ExemptionStatus.REJECTED


def test_rejecting_needs_a_note(client, users, lit, requested):
    response = post(as_user(client, users["admin"]), lit["a"], "exemption/decide", "decide_exemption",
                    {"version": requested.version, "decision": "reject", "note": ""})  # fmt: skip
    assert response.status_code == 200
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "decide_exemption")
    assert form.errors["note"] == ["请填写审批意见。"]


def test_decide_with_nothing_pending_is_404(client, users, lit):
    response = post(as_user(client, users["admin"]), lit["a"], "exemption/decide", "decide_exemption",
                    {"version": 1, "decision": "approve"})  # fmt: skip
    assert response.status_code == 404


def test_decide_form_carries_the_requests_version(client, users, lit, requested):
    response = as_user(client, users["admin"]).get(url(lit["a"]))
    form = next(s["form"] for s in response.context["steps"] if s["key"] == "decide_exemption")
    assert form.initial["version"] == requested.version


# --- The whole way, as the walk does it -----------------------------------------------------


def test_the_whole_way_through_the_pages(client, users, lit):
    w = lit["b"]
    as_user(client, users["qingshan"])
    assert post(client, w, "notify", "notify", {"version": 1}).status_code == 302
    assert post(client, w, "plan", "plan", plan_data(2)).status_code == 302
    as_user(client, users["jtj"])
    assert (
        post(client, w, "rectified", "rectified", {"version": 3, "rectification": "已开工"}).status_code
        == 302
    )
    as_user(client, users["admin"])
    assert post(client, w, "strike-off", "strike_off", {"version": 4}).status_code == 302
    w = fresh(w)
    assert w.status == Status.STRUCK_OFF
    timeline = client.get(url(w)).context["timeline"]
    assert [t["verb"] for t in timeline] == ["下发整改通知", "填报整改措施", "报送整改完成", "核验销号"]
