"""The problem-ledger API: the whole workflow through HTTP, scope (404/403), error bodies (409,
422 naming the field), safe retries with Idempotency-Key, and the figures."""

import json

import pytest

from majorprojects.accounts.services import token_create
from majorprojects.problems.models import Problem, ProgressNote, Status

from .conftest import assign, raise_problem


class Caller:
    def __init__(self, client, key):
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/problems{path}", params or {}, **self.auth)

    def post(self, path, body=None, key=None):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return self.client.post(
            f"/api/problems{path}",
            data=json.dumps(body or {}),
            content_type="application/json",
            **self.auth,
            **extra,
        )


@pytest.fixture
def api(client, users, ledger):
    accounts = {**users, "zrzyj": ledger["zrzyj_user"], "sthjj": ledger["sthjj_user"]}

    def as_account(name):
        _, key = token_create(actor=accounts[name], name="对接")
        return Caller(client, key)

    return as_account


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def errors(response):
    assert response.status_code == 422, response.content
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


def test_the_whole_loop_through_the_api(api, projects, ledger, users):
    owner, admin, lead, co = api("owner_a"), api("admin"), api("zrzyj"), api("sthjj")
    body = {"project_id": projects["a"].pk, "category_id": ledger["land"].pk, "description": "用地指标未落实"}
    problem = ok(owner.post("", body, key="r1"))
    assert problem["status"] == "reported" and problem["source"] == "project_unit"
    assert ok(owner.post("", body, key="r1"))["id"] == problem["id"]  # a retried raise
    pid = problem["id"]
    accepted = ok(admin.post(f"/{pid}/accept", {"version": problem["version"]}))
    assert accepted["status"] == "accepted" and accepted["level"] == "city"
    assigned = ok(
        admin.post(
            f"/{pid}/assign",
            {
                "lead_unit_id": ledger["zrzyj"].pk,
                "co_unit_ids": [ledger["sthjj"].pk],
                "leader_id": ledger["vice_mayor"].pk,
                "responsible_name": "张科长",
                "solution": "列入用地计划",
                "workdays": 10,
                "version": accepted["version"],
            },
        )
    )
    assert assigned["deadline"] == "2026-12-07" and assigned["deadline_workdays"] == 10
    assert assigned["co_units"] == [{"id": ledger["sthjj"].pk, "name": "云江市生态环境局"}]
    assert assigned["leader"]["name"] == "王副市长"
    ok(lead.post(f"/{pid}/progress", {"text": "已赴现场"}, key="p1"))
    ok(lead.post(f"/{pid}/progress", {"text": "已赴现场"}, key="p1"))  # resent: one note
    ok(co.post(f"/{pid}/progress", {"text": "配合中"}))
    assert ProgressNote.objects.count() == 2
    detail = ok(lead.post(f"/{pid}/extensions", {"until": "2027-01-15", "reason": "待省厅批复"}))
    ext_id = detail["extensions"][0]["id"]
    assert detail["extensions"][0]["state"] == "pending"
    assert lead.post(f"/extensions/{ext_id}/decide", {"approve": True}).status_code == 403
    decided = ok(admin.post(f"/extensions/{ext_id}/decide", {"approve": True}))
    assert decided["deadline"] == "2027-01-15"
    resolved = ok(lead.post(f"/{pid}/resolve", {"resolution": "已调剂", "version": decided["version"]}))
    assert resolved["status"] == "resolved"
    assert owner.post(f"/{pid}/reopen", {"reason": "", "version": resolved["version"]}).status_code == 422
    reopened = ok(owner.post(f"/{pid}/reopen", {"reason": "指标未下达", "version": resolved["version"]}))
    assert reopened["status"] == "reopened" and reopened["reopen_count"] == 1
    again = ok(lead.post(f"/{pid}/resolve", {"resolution": "指标已下达", "version": reopened["version"]}))
    closed = ok(owner.post(f"/{pid}/confirm", {"satisfied": True, "version": again["version"]}))
    assert closed["status"] == "closed" and closed["close_kind"] == "satisfied"
    labels = [e["label"] for e in closed["timeline"]]
    assert labels[0] == "反映问题" and labels[-1] == "反映人确认" and labels.count("办结") == 2


def test_scope_errors(api, users, projects, ledger):
    problem = raise_problem(users, projects, ledger)
    response = api("qingshan").get(f"/{problem.pk}")
    assert response.status_code == 404 and response.json() == {"detail": "问题不存在或无权访问"}
    assert api("qingshan").post(f"/{problem.pk}/accept", {"version": 1}).status_code == 404
    assert api("auditor").get("").status_code == 403
    forbidden = api("owner_a").post(f"/{problem.pk}/accept", {"version": 1})
    assert forbidden.status_code == 403 and "研判" in forbidden.json()["detail"]
    assert api("leader").post(f"/{problem.pk}/close", {"reason": "x", "version": 1}).status_code == 403
    assert ok(api("leader").get(f"/{problem.pk}"))["actions"] == dict.fromkeys(
        [
            "accept",
            "merge",
            "split",
            "assign",
            "progress",
            "extend",
            "resolve",
            "confirm",
            "close",
            "escalate",
        ],
        False,
    )


def test_unauthenticated_is_401(client, db):
    assert client.get("/api/problems").status_code == 401


def test_raise_errors_name_the_field(api, projects, ledger):
    owner = api("owner_a")
    assert errors(owner.post("", {"project_id": projects["a"].pk})) == {
        "body.category_id": "此项为必填项。",
        "body.description": "此项为必填项。",
    }
    assert errors(
        owner.post("", {"project_id": projects["b"].pk, "category_id": ledger["land"].pk, "description": "x"})
    ) == {"body.project_id": "项目不存在或无权访问。"}
    assert errors(
        owner.post("", {"project_id": projects["a"].pk, "category_id": 999, "description": "x"})
    ) == {"body.category_id": "问题类别不存在。"}
    assert errors(
        owner.post("", {"project_id": projects["a"].pk, "category_id": ledger["land"].pk, "description": " "})
    ) == {"body.description": "请填写问题描述。"}
    assert not Problem.objects.exists()


def test_assign_errors_and_conflicts(api, users, projects, ledger):
    problem = raise_problem(users, projects, ledger)
    admin = api("admin")
    body = {
        "lead_unit_id": ledger["zrzyj"].pk,
        "leader_id": ledger["vice_mayor"].pk,
        "responsible_name": "张科长",
        "solution": "方案",
        "deadline": "2026-11-01",
        "version": 1,
    }
    assert errors(admin.post(f"/{problem.pk}/assign", body)) == {"body.deadline": "办理时限不能早于今天。"}
    assert errors(admin.post(f"/{problem.pk}/assign", {**body, "deadline": "2026-02-30"}))[
        "body.deadline"
    ].startswith("请填写有效日期")
    assert errors(
        admin.post(f"/{problem.pk}/assign", {**body, "lead_unit_id": 999, "deadline": "2026-12-01"})
    ) == {"body.lead_unit_id": "牵头单位不存在或已停用。"}
    stale = admin.post(f"/{problem.pk}/assign", {**body, "deadline": "2026-12-01", "version": 99})
    assert stale.status_code == 409 and stale.json() == {"detail": "该问题已被他人处理，请刷新页面后重试。"}
    assert api("owner_a").post(f"/{problem.pk}/assign", {**body, "deadline": "2026-12-01"}).status_code == 403
    missing = {k: v for k, v in body.items() if k != "version"}
    assert errors(admin.post(f"/{problem.pk}/assign", {**missing, "deadline": "2026-12-01"})) == {
        "body.version": "此项为必填项。"
    }
    problem.refresh_from_db()
    assert problem.status == Status.REPORTED


def test_merge_split_close_and_escalate(api, users, projects, ledger):
    admin = api("admin")
    kept, dup, big = (
        raise_problem(users, projects, ledger, description=d) for d in ("甲", "甲重复", "大问题")
    )
    merged = ok(admin.post(f"/{dup.pk}/merge", {"into_id": kept.pk, "version": 1}))
    assert merged["status"] == "merged" and merged["merged_into_id"] == kept.pk
    assert errors(admin.post(f"/{kept.pk}/merge", {"into_id": 999, "version": 1})) == {
        "body.into_id": "要合并到的问题不存在或无权访问。"
    }
    split = ok(
        admin.post(
            f"/{big.pk}/split", {"items": [{"description": "子一"}, {"description": "子二"}], "version": 1}
        )
    )
    assert split["status"] == "split" and len(split["sub_item_ids"]) == 2
    assert errors(admin.post(f"/{kept.pk}/split", {"items": [{"description": "x"}], "version": 1})) == {
        "body.items": "至少分解为两个子事项。"
    }
    coordination = ok(
        admin.post(f"/{kept.pk}/escalate", {"leader_id": ledger["vice_mayor"].pk, "reason": "难"})
    )
    assert coordination["leader"]["name"] == "王副市长"
    version = Problem.objects.get(pk=kept.pk).version
    assert errors(admin.post(f"/{kept.pk}/close", {"reason": "", "version": version})) == {
        "body.reason": "请填写销号理由。"
    }
    closed = ok(admin.post(f"/{kept.pk}/close", {"reason": "已另行解决", "version": version}))
    assert closed["close_kind"] == "city"


def test_list_filters_and_query_count(api, users, projects, ledger, django_assert_max_num_queries):
    for n in range(6):
        problem = raise_problem(users, projects, ledger, description=f"问题{n}")
        if n % 2:
            assign(problem, users, ledger)
    admin = api("admin")
    with django_assert_max_num_queries(8):
        page = ok(admin.get("", {"limit": 50}))
    assert page["count"] == 6
    assert ok(admin.get("", {"status": "assigned"}))["count"] == 3
    assert ok(admin.get("", {"unit_id": ledger["zrzyj"].pk}))["count"] == 3
    assert ok(admin.get("", {"q": "问题5"}))["count"] == 1
    assert ok(api("zrzyj").get(""))["count"] == 3
    assert ok(api("qingshan").get(""))["count"] == 0
    assert errors(admin.get("", {"status": "bogus"})) == {"query.status": "状态无效。"}


def test_metrics_endpoint(api, users, projects, ledger):
    problem = assign(raise_problem(users, projects, ledger), users, ledger)
    from majorprojects.problems import services

    services.problem_close(actor=users["admin"], problem=problem, reason="x")
    raise_problem(users, projects, ledger)
    figures = ok(api("admin").get("/metrics", {"by": "category"}))
    assert figures["by_label"] == "问题类别"
    assert figures["total"]["total"] == 2 and figures["total"]["closure_rate"] == "50.0"
    assert figures["total"]["satisfaction_rate"] is None
    assert errors(api("admin").get("/metrics", {"by": "x"})) == {
        "query.by": "请选择以下之一：unit、category。"
    }


def test_categories(api):
    names = [c["name"] for c in ok(api("owner_a").get("/categories"))]
    assert names == ["资金", "用地", "用林", "环评水保", "配套设施", "施工环境", "审批手续", "融资", "其他"]
