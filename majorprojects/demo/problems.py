"""The demo city's problem ledger (问题台账, docs/problems.md), after the dispatch history.

1. Every counted dispatch report (submitted, approved, locked) with "存在问题" text gets its item,
   as `problems.services.problem_from_report` makes it (source 调度报表, category 其他, raised by the
   report's filler for the owner unit) — the history writes its reports in bulk, so the items are
   written here the same way.
2. A problem usually runs over several reports (an episode of one to four months). The analyst
   (the city, or the county for problems within its power) turns the episode into one proper item
   with its category (用地, 资金 …), raised from the dispatch text, and merges the episode's
   report items into it as they come in. Weather, price and labour remarks need no coordination:
   the city accepts the first report item, merges the repeats and closes it with a reason.
3. Some problems are raised directly: by the project unit (`owner`), by counties, by departments,
   and from leaders' site visits (走访收集); two are split into sub-items for different units.
4. Each item then follows the workflow as far as its age allows: accepted, assigned with the five
   in place (lead units are the demo's departments or the county government; a department without
   a demo login gets a working account with no password, `<code>_lly`, so its notes and
   resolutions have an author), progress notes (the lead unit's first one is the first reply),
   extension requests, resolution, the reporter's confirmation (a few not satisfied: reopened,
   resolved again), closure. Older episodes are mostly closed; recent ones are in handling, some
   past their deadline; two hard ones are escalated to the vice-mayor in charge, with a
   coordination meeting's minutes and tasks.
5. The supervision command's logic (`problems.escalation.escalate`) is run for the last day of
   each of the past three months and for today, so notices, levels and flags exist as the daily
   job would have left them (their rows and events are dated to the run).

Rows go in with bulk_create and are given their historical timestamps; each step writes the event
its service writes (same verb, target and details), dated when it happened, so the problem's
timeline (read from events) tells its story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from majorprojects.accounts.models import Role, User
from majorprojects.audit.models import Event
from majorprojects.audit.services import _jsonable
from majorprojects.core.workdays import add_workdays
from majorprojects.problems import escalation
from majorprojects.problems.models import (
    Category,
    CloseKind,
    Confirmation,
    Coordination,
    CoordinationTask,
    Escalation,
    Extension,
    Level,
    Problem,
    ProgressNote,
    Source,
    Status,
    Urgency,
)
from majorprojects.reporting.models import COUNTED, Report

from . import builder, data, dispatch
from .approvals import _event, write_events

TZ = timezone.get_default_timezone()
TITLE_LENGTH = 40
# Lead units without a demo login get a working account (no password) so notes have an author.
WORKING_ACCOUNTS = {
    "市自然资源和规划局": "zrzy_lly",
    "市生态环境局": "sthj_lly",
    "市林业局": "linye_lly",
    "市金融办": "jinrong_lly",
    "市能源局": "nengyuan_lly",
    "市城管局": "chengguan_lly",
    "市数据局": "shuju_lly",
}
# Dispatch problem texts → (category code, lead department or "county", co-units, or "close"
# for remarks the city closes with a reason).
TEXT_RULES = (
    ("房屋未完成征收", "land", "county", ("市自然资源和规划局",)),
    ("建设用地报批", "land", "市自然资源和规划局", ()),
    ("使用林地", "forest", "市林业局", ("市自然资源和规划局",)),
    ("项目资本金到位不足", "funds", "county", ("市财政局",)),
    ("专项债券资金尚未拨付", "funds", "市财政局", ()),
    ("施工用电", "facilities", "市能源局", ("市住建局",)),
    ("管线迁改", "facilities", "市住建局", ("市城管局",)),
    ("施工图审查", "approval", "市住建局", ("市数据局",)),
    ("环境影响评价", "eia_swc", "市生态环境局", ()),
    ("融资方案", "financing", "市金融办", ("市财政局",)),
    ("施工合同尚未备案", "other", "市统计局", ("市住建局",)),
    ("财务核算", "other", "市统计局", ()),
    ("建材价格", "close", "", ()),
    ("强降雨", "close", "", ()),
    ("低温雨雪", "close", "", ()),
    ("务工人员返乡", "close", "", ()),
    ("设备到货延迟", "close", "", ()),
)
CLOSE_REASONS = (
    "属季节性天气和市场因素影响，项目单位已自行调整施工组织，不需市级协调，予以销号。",
    "经核实，该问题由项目单位自行协调解决，不需政府部门协调，予以销号。",
)
# Per category: (title, description, request, solution, progress notes, resolution) variants for
# problems raised directly, and the solutions/notes/resolutions used for report episodes too.
DIRECT = {
    "land": [
        (
            "项目新增建设用地指标不足",
            "项目需新增建设用地约{k}亩，县级用地指标已用完，需申请市级统筹保障。",
            "请求市级统筹安排新增建设用地指标，支持项目按期报批。",
        ),
        (
            "{seg}地块土地征收补偿标准未谈妥",
            "项目{seg}段涉及集体土地{k}亩，部分村民对征收补偿标准有异议，土地尚未交付。",
            "请求县政府牵头做好群众工作，尽快完成土地征收和交付。",
        ),
        (
            "项目用地涉及永久基本农田需调整",
            "项目选址涉及永久基本农田约{k}亩，需通过国土空间规划调整或占补平衡解决。",
            "请求自然资源部门指导开展永久基本农田补划论证。",
        ),
        (
            "项目用地未完成土地出让",
            "项目已完成用地预审，但土地招拍挂程序尚未启动，影响规划许可办理。",
            "请求加快土地出让前期工作，尽快组织挂牌出让。",
        ),
    ],
    "funds": [
        (
            "中央预算内资金配套资金未落实",
            "项目已获中央预算内投资支持，但地方配套资金{k}00万元尚未落实，影响工程款支付。",
            "请求财政部门统筹安排地方配套资金。",
        ),
        (
            "工程进度款拨付滞后",
            "已完成工程量计量{k}00万元，财政评审尚未完成，进度款未能按合同拨付。",
            "请求加快财政投资评审和进度款拨付。",
        ),
    ],
    "approval": [
        (
            "施工许可证办理受阻",
            "项目施工图已审查合格，但因土地证未办理，施工许可证无法受理。",
            "请求按容缺受理方式先行办理施工许可。",
        ),
        (
            "初步设计概算调整需重新审批",
            "因材料价格和设计变更，项目概算超可研估算约{k}%，需重新报批。",
            "请求发改部门加快概算调整审查。",
        ),
    ],
    "facilities": [
        (
            "项目外部供水管网未接通",
            "项目厂区外供水主管约{k}00米未建设，影响设备调试和试生产。",
            "请求城管部门协调供水企业加快管网延伸。",
        ),
        (
            "园区道路未贯通影响施工",
            "项目进场道路约{k}00米尚未贯通，大型设备和材料运输困难。",
            "请求园区管委会加快配套道路建设。",
        ),
    ],
    "site": [
        (
            "施工受周边群众阻工",
            "项目{seg}段施工时，周边群众以噪音、扬尘为由多次阻工，已停工{k}天。",
            "请求属地政府做好群众工作，保障正常施工秩序。",
        ),
        (
            "渣土消纳场地不足",
            "项目土方外运约{k}万立方米，现有消纳场地容量不足。",
            "请求城管部门协调新增渣土消纳场地。",
        ),
    ],
    "eia_swc": [
        (
            "环评批复前置条件未满足",
            "项目所在区域污染物排放总量指标不足，环评报告无法报批。",
            "请求生态环境部门协调调剂主要污染物排放总量指标。",
        ),
        (
            "水土保持方案审批进度慢",
            "项目水土保持方案已报送{k}个月，尚未组织技术评审。",
            "请求水利部门加快组织专家评审。",
        ),
    ],
    "financing": [
        (
            "项目贷款审批进度慢",
            "项目已向银行申请中长期贷款{k}亿元，授信审批进度较慢，资金缺口较大。",
            "请求金融部门协调银行加快授信审批和贷款投放。",
        ),
    ],
    "forest": [
        (
            "使用林地定额不足",
            "项目需使用林地约{k}亩，县级使用林地定额不足，审核手续无法报批。",
            "请求林业部门统筹调剂使用林地定额。",
        ),
    ],
    "other": [
        (
            "项目入统资料不全",
            "项目已开工但施工合同、发票等入统资料不完整，尚未纳入固定资产投资统计。",
            "请求统计部门上门指导入统工作。",
        ),
    ],
}
DIRECT_LEADS = {
    "land": ("市自然资源和规划局", "county"),
    "funds": ("市财政局",),
    "approval": ("市住建局", "市数据局"),
    "facilities": ("市城管局", "市住建局"),
    "site": ("county", "市住建局"),
    "eia_swc": ("市生态环境局", "市水利局"),
    "financing": ("市金融办",),
    "forest": ("市林业局",),
    "other": ("市统计局",),
}
DIRECT_WEIGHTS = {
    "land": 30,
    "funds": 8,
    "approval": 6,
    "facilities": 5,
    "site": 10,
    "eia_swc": 4,
    "financing": 3,
    "forest": 2,
    "other": 1,
}
SOLUTIONS = {
    "land": "由牵头单位组织现场办公，逐户做好政策解释，明确时间节点，配合单位做好用地报批和补偿资金保障。",
    "funds": "财政部门会同项目单位梳理资金需求，按工程进度优先保障，确保资金及时拨付到位。",
    "approval": "实行并联审批和容缺受理，牵头单位安排专人跟踪，压缩审批时限。",
    "facilities": "牵头单位会同产权单位制定迁改（接入）方案，倒排工期，限时完成。",
    "site": "属地政府牵头成立工作专班，做好群众工作，依法保障施工秩序。",
    "eia_swc": "牵头单位提前介入指导，组织技术审查，确保按时限完成审批。",
    "financing": "金融部门组织银企对接，推动银行加快授信审批，优先纳入融资白名单。",
    "forest": "林业部门统筹调剂使用林地定额，指导项目单位完善报批材料。",
    "other": "牵头单位上门指导，帮助项目单位完善资料，限时办结。",
}
NOTES = (
    "已组织相关单位召开现场协调会，明确了责任分工和完成时限。",
    "已完成现场踏勘和资料核查，正在按方案推进。",
    "已形成初步处理意见，报分管领导审定后实施。",
    "相关手续已报上级主管部门，正在跟踪审批进度。",
    "已完成约一半工作量，剩余部分计划月底前完成。",
    "已与项目单位对接，项目单位正在补充完善材料。",
)
RESOLUTIONS = {
    "land": "经协调，征收（报批）工作已完成，用地已交付项目单位，现场具备施工条件。",
    "funds": "资金已拨付到位，项目单位已确认收到。",
    "approval": "相关手续已办结，批复文件已送达项目单位。",
    "facilities": "配套设施已按方案完成迁改（接入），不再影响施工。",
    "site": "经属地政府协调，施工秩序已恢复，项目正常施工。",
    "eia_swc": "批复已印发，项目单位已领取批复文件。",
    "financing": "银行已完成授信审批，首笔贷款已投放。",
    "forest": "使用林地审核同意书已取得，项目可按批准范围施工。",
    "other": "经上门指导，项目单位已补齐资料，问题已解决。",
}
UNSATISFIED = (
    "问题只解决了一部分，仍有{k}户未签约，施工作业面仍未完全移交。",
    "资金仅拨付了一部分，仍不能满足工程款支付需要。",
    "现场仍存在阻工情况，请继续协调。",
)
EXTENSION_REASONS = (
    "涉及上级审批，需等待省级部门批复，申请延长办理时限。",
    "群众诉求较复杂，需进一步做好政策解释工作，申请延期。",
)


@dataclass
class Item:
    """A problem being built: the row, its story (events), and the rows hanging off it."""

    problem: Problem
    events: list = field(default_factory=list)  # (actor, verb, details, at)
    notes: list = field(default_factory=list)
    confirmations: list = field(default_factory=list)
    extensions: list = field(default_factory=list)
    co_units: list = field(default_factory=list)
    coordination: tuple | None = None
    merged: list = field(default_factory=list)  # Items merged into this one


def _aware(day: date, rng) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59)), tzinfo=TZ)


def _title(text: str) -> str:
    first = text.strip().splitlines()[0]
    return first[:TITLE_LENGTH] + ("…" if len(first) > TITLE_LENGTH else "")


class Ledger:
    def __init__(self, city: builder.City, rng, today: date):
        self.city, self.rng, self.today = city, rng, today
        self.now = timezone.now()
        self.categories = {c.code: c for c in Category.objects.all()}
        self.accounts = {u.username: u for u in city.accounts}
        self.items: list[Item] = []
        self.handlers: dict[int, User] = {}  # unit pk → the account acting for it
        for user in city.accounts:
            if user.unit_id and user.role in (Role.DEPARTMENT, Role.COUNTY, Role.CITY_ADMIN):
                self.handlers.setdefault(user.unit_id, user)
        extra = []
        for short, username in WORKING_ACCOUNTS.items():
            unit = city.departments[short]
            person = city.liaisons[short]
            extra.append(
                User(
                    username=username,
                    role=Role.DEPARTMENT,
                    unit=unit,
                    region=city.city,
                    person=person,
                    full_name=person.name,
                    phone=person.phone,
                    password=make_password(None),
                )
            )
        User.objects.bulk_create(extra)
        for user in extra:
            self.handlers[user.unit_id] = user
        self.county_users = {u.region_id: u for u in city.accounts if u.role == Role.COUNTY}
        self.leader_of = {}
        for key, _pos, _portfolio, departments in data.LEADERS:
            for short in departments:
                self.leader_of[short] = city.leaders[key]

    # --- who ------------------------------------------------------------------------------

    def analyst(self, project, county_level: bool) -> User:
        if county_level and project.region_id in self.county_users:
            return self.county_users[project.region_id]
        return self.accounts["admin"]

    def lead(self, project, lead: str):
        """(unit, leader person) for a lead given as a department short name or "county"."""
        if lead == "county" and project.region_id in self.county_users:
            user = self.county_users[project.region_id]
            return user.unit, self.city.county_heads[project.region.code]
        short = "市自然资源和规划局" if lead == "county" else lead
        return self.city.departments[short], self.leader_of.get(short, self.city.leaders["executive"])

    # --- steps (what each service writes) -------------------------------------------------

    def step(self, item: Item, actor, verb: str, details: dict, at: datetime, bump: bool = True) -> None:
        if bump:
            item.problem.version += 1
        item.problem.updated_at = at
        item.events.append((actor, verb, details, at))

    def new(
        self,
        *,
        project,
        category,
        source,
        title,
        description,
        request,
        raised_by,
        raising_unit,
        at,
        report=None,
        urgency=Urgency.NORMAL,
        parent=None,
    ) -> Item:
        problem = Problem(
            project=project,
            title=title,
            category=category,
            source=source,
            description=description,
            request=request,
            urgency=urgency,
            raised_by=raised_by,
            raising_unit=raising_unit,
            region_id=project.region_id,
            report=report,
            parent=parent,
            created_at=at,
            updated_at=at,
        )
        item = Item(problem)
        self.items.append(item)
        details = {"category": category.name, "source": problem.get_source_display()}
        if report is not None:
            details["report"] = report.pk
        elif parent is None:
            details["urgency"] = urgency
        item.events.append((raised_by, "problem_raise", details, at))
        return item

    def accept(self, item: Item, actor, at) -> None:
        p = item.problem
        p.status, p.level = Status.ACCEPTED, Level.CITY if actor.role == Role.CITY_ADMIN else Level.COUNTY
        p.accepted_by, p.accepted_at = actor, at
        self.step(item, actor, "problem_accept", {"level": p.get_level_display(), "note": ""}, at)

    def merge(self, dup: Item, into: Item, actor, at, reason: str) -> None:
        p = dup.problem
        p.status, p.merged_into = Status.MERGED, into.problem
        p.level = p.level or (Level.CITY if actor.role == Role.CITY_ADMIN else Level.COUNTY)
        into.merged.append((dup, reason))
        self.step(
            dup,
            actor,
            "problem_merge",
            {"into": into, "into_title": into.problem.title, "reason": reason},
            at,
        )
        into.events.append((actor, "problem_merged_in", {"from": dup, "from_title": p.title}, at))

    def assign(
        self, item: Item, actor, at, unit, leader, co_units, deadline_days: int, workdays: bool
    ) -> None:
        rng, p = self.rng, item.problem
        day = at.date()
        deadline = add_workdays(day, deadline_days) if workdays else day + timedelta(days=deadline_days)
        if p.status == Status.REPORTED:
            p.accepted_by, p.accepted_at = actor, at
        p.level = p.level or (Level.CITY if actor.role == Role.CITY_ADMIN else Level.COUNTY)
        if p.lead_unit_id != unit.pk:
            p.first_reply_at, p.first_reply_due = None, day + timedelta(days=7)
        p.lead_unit, p.leader = unit, leader
        handler = self.handlers.get(unit.pk)
        p.responsible_name = handler.full_name if handler else builder._person_name(rng)
        p.responsible_phone = handler.phone if handler else builder._phone(rng)
        p.solution = SOLUTIONS[p.category.code]
        p.deadline, p.deadline_workdays = deadline, deadline_days if workdays else None
        p.assigned_by, p.assigned_at, p.status = actor, at, Status.ASSIGNED
        item.co_units = [u for u in co_units if u.pk != unit.pk]
        self.step(
            item,
            actor,
            "problem_assign",
            {
                "lead_unit": unit.name,
                "co_units": [u.name for u in item.co_units],
                "leader": str(leader),
                "responsible": p.responsible_name,
                "solution": p.solution,
                "deadline": deadline,
                "workdays": deadline_days if workdays else None,
            },
            at,
        )

    def progress(self, item: Item, unit, at, text: str) -> None:
        p = item.problem
        author = self.handlers[unit.pk]
        lead = unit.pk == p.lead_unit_id
        note = ProgressNote(problem=p, unit=unit, author=author, text=text, is_lead=lead, created_at=at)
        item.notes.append(note)
        p.last_progress_at = at
        first = lead and p.first_reply_at is None
        if first:
            p.first_reply_at = at
        self.step(
            item,
            author,
            "problem_progress",
            {"text": text, "unit": unit.name, "first_reply": first},
            at,
            bump=False,
        )

    def resolve(self, item: Item, at, resolution: str) -> None:
        p = item.problem
        p.status, p.resolution, p.resolved_at = Status.RESOLVED, resolution, at
        self.step(item, self.handlers[p.lead_unit_id], "problem_resolve", {"resolution": resolution}, at)

    def confirm(self, item: Item, at, satisfied: bool, reason: str = "") -> None:
        p = item.problem
        by = p.raised_by
        item.confirmations.append(Confirmation(problem=p, satisfied=satisfied, reason=reason, by=by, at=at))
        if satisfied:
            p.status, p.closed_at, p.close_kind = Status.CLOSED, at, CloseKind.SATISFIED
        else:
            p.status, p.resolved_at = Status.REOPENED, None
            p.reopen_count += 1
        self.step(item, by, "problem_confirm", {"satisfied": satisfied, "reason": reason}, at)

    def close(self, item: Item, at, reason: str) -> None:
        p = item.problem
        previous = p.status
        p.status, p.closed_at, p.close_kind, p.close_reason = Status.CLOSED, at, CloseKind.CITY, reason
        self.step(item, self.accounts["admin"], "problem_close", {"reason": reason, "from": previous}, at)


def build_problems(city: builder.City) -> dict:
    rng, today = city.rng, timezone.localdate()
    ledger = Ledger(city, rng, today)
    episodes = _episodes(city)
    for episode in episodes:
        _episode(ledger, episode)
    _direct(ledger)
    _ensure_everyone_has_work(ledger)
    _write(ledger)
    notices = _supervise(today)
    return {"problems": len(ledger.items), "episodes": len(episodes), **notices}


# --- report episodes ---------------------------------------------------------------------------


def _episodes(city) -> list[list[Report]]:
    reports = (
        Report.objects.filter(status__in=COUNTED, project__region__path__startswith=city.city.path)
        .exclude(problems="")
        .select_related("project__region", "project__owner_unit", "period", "filled_by")
        .order_by("project_id", "period__frequency", "period__ends_on", "pk")
    )
    episodes: list[list[Report]] = []
    for report in reports:
        last = episodes[-1][-1] if episodes else None
        if (
            last is not None
            and last.project_id == report.project_id
            and last.problems.strip() == report.problems.strip()
            and last.period.frequency == report.period.frequency
            and (report.period.ends_on - last.period.ends_on).days <= 100
        ):
            episodes[-1].append(report)
        else:
            episodes.append([report])
    return episodes


def _rule(text: str):
    for needle, category, lead, co in TEXT_RULES:
        if needle in text:
            return category, lead, co
    return "other", "市发改委", ()


def _episode(ledger: Ledger, reports: list[Report]) -> None:
    rng = ledger.rng
    first = reports[0]
    project = first.project
    text = first.problems.strip()
    other = ledger.categories["other"]
    raw = [
        ledger.new(
            project=project,
            category=other,
            source=Source.REPORT,
            title=_title(r.problems),
            description=r.problems.strip(),
            request="",
            raised_by=r.filled_by,
            raising_unit=project.owner_unit,
            at=r.submitted_at or _aware(r.period.ends_on, rng),
            report=r,
        )
        for r in reports
    ]
    category, lead, co = _rule(text)
    start = first.submitted_at
    end = reports[-1].submitted_at
    county_level = lead == "county" and project.region_id in ledger.county_users
    analyst = ledger.analyst(project, county_level)
    if category == "close":
        main = raw[0]
        if start + timedelta(days=2) >= ledger.now:
            return
        ledger.accept(main, ledger.accounts["admin"], start + timedelta(days=2))
        for dup in raw[1:]:
            at = dup.problem.created_at + timedelta(hours=30)
            if at < ledger.now:
                ledger.merge(dup, main, main.problem.accepted_by, at, "同一项目同一问题连续填报，合并办理")
        closing = end + timedelta(days=rng.randint(4, 15))
        if closing < ledger.now - timedelta(hours=2):
            ledger.close(main, closing, rng.choice(CLOSE_REASONS))
        return
    raised_at = start + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
    if raised_at >= ledger.now - timedelta(hours=1):
        return  # reported this very day: the report items wait for analysis
    source = Source.COUNTY if county_level else Source.CITY
    description = f"{project.name}：{text}（据调度报表反映）"
    main = ledger.new(
        project=project,
        category=ledger.categories[category],
        source=source,
        title=_title(text),
        description=description,
        request="请求相关部门协调解决。",
        raised_by=analyst,
        raising_unit=analyst.unit,
        at=raised_at,
        urgency=Urgency.URGENT if rng.random() < 0.15 else Urgency.NORMAL,
    )
    for dup in raw:
        at = max(dup.problem.created_at + timedelta(hours=20), raised_at + timedelta(minutes=10))
        if at >= ledger.now:
            continue  # sent this very day: waits for the analyst
        ledger.merge(dup, main, analyst, at, "与已登记问题重复，合并办理")
    unit, leader = ledger.lead(project, lead)
    co_units = [ledger.city.departments[s] for s in co]
    _workflow(ledger, main, analyst, unit, leader, co_units, raised_at, end)


def _workflow(ledger: Ledger, item: Item, analyst, unit, leader, co_units, raised_at, end) -> None:
    """Accept, assign, handle, resolve, confirm — as far as the time since `end` (the last report
    of the problem) allows. Old episodes end closed; recent ones stop somewhere on the way."""
    rng, now = ledger.rng, ledger.now
    age = (ledger.today - end.date()).days
    roll = rng.random()
    if age < 45:
        fate = (
            "reported"
            if roll < 0.06
            else "accepted"
            if roll < 0.14
            else "assigned"
            if roll < 0.62
            else "resolved"
            if roll < 0.78
            else "reopened"
            if roll < 0.84
            else "closed"
        )
    else:
        fate = "assigned" if roll < 0.05 else "resolved" if roll < 0.08 else "closed"
    if fate == "reported":
        return
    t = raised_at + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 4))
    if t >= now:
        return
    if item.problem.status == Status.REPORTED:
        ledger.accept(item, analyst, t)
    if fate == "accepted":
        return
    t += timedelta(days=rng.randint(1, 5))
    if t >= now:
        return
    overdue = fate == "assigned" and rng.random() < (0.35 if age < 45 else 0.9)
    if fate == "assigned" and not overdue:
        days = max(20, (ledger.today - t.date()).days + rng.randint(10, 45))
    elif overdue:
        days = max(10, (ledger.today - t.date()).days - rng.randint(10, 100))
    else:
        days = rng.randint(20, 60)
    workdays = not overdue and days <= 40 and rng.random() < 0.3
    ledger.assign(item, analyst, t, unit, leader, co_units, days, workdays)
    if item.problem.deadline < t.date():
        item.problem.deadline = t.date() + timedelta(days=10)
        item.events[-1][2]["deadline"] = item.problem.deadline
    # Notes: the first reply within a week, then every three to five weeks.
    note_at = t + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 6))
    finish = {
        "assigned": now,
        "resolved": max(end + timedelta(days=rng.randint(2, 20)), t + timedelta(days=8)),
        "reopened": max(end + timedelta(days=rng.randint(2, 10)), t + timedelta(days=8)),
        "closed": max(end + timedelta(days=rng.randint(3, 25)), t + timedelta(days=10)),
    }[fate]
    finish = min(finish, now - timedelta(days=2))
    silent = fate == "assigned" and overdue and rng.random() < 0.4
    while note_at < finish and not (silent and item.notes):
        units = [item.problem.lead_unit] + (
            [rng.choice(item.co_units)] if item.co_units and rng.random() < 0.3 else []
        )
        for u in units:
            if u.pk in ledger.handlers:
                ledger.progress(item, u, note_at, rng.choice(NOTES))
        note_at += timedelta(days=rng.randint(20, 38))
    if fate == "assigned":
        return
    resolve_at = max(finish, (item.notes[-1].created_at if item.notes else t) + timedelta(hours=3))
    if resolve_at >= now:
        return
    ledger.resolve(item, resolve_at, RESOLUTIONS[item.problem.category.code])
    if fate == "resolved":
        return
    confirm_at = resolve_at + timedelta(days=rng.randint(1, 5))
    cycle = fate == "reopened" or (fate == "closed" and rng.random() < 0.1)
    if confirm_at >= now:
        return
    if cycle:
        ledger.confirm(item, confirm_at, False, rng.choice(UNSATISFIED).format(k=rng.randint(2, 9)))
        if fate == "reopened":
            return
        again = confirm_at + timedelta(days=rng.randint(5, 20))
        if again >= now - timedelta(days=1):
            return
        ledger.progress(
            item,
            item.problem.lead_unit,
            again - timedelta(days=2),
            "已按反映人意见继续协调，剩余问题已落实解决措施。",
        )
        ledger.resolve(item, again, "剩余问题已全部解决，经现场核实，项目单位无异议。")
        confirm_at = again + timedelta(days=rng.randint(1, 4))
        if confirm_at >= now:
            return
    ledger.confirm(item, confirm_at, True)


# --- problems raised directly ------------------------------------------------------------------


def _direct(ledger: Ledger) -> None:
    """Problems raised by the project unit, counties, departments and on leaders' site visits;
    two of them split into sub-items for different units; two escalated to a vice-mayor."""
    rng, city, today = ledger.rng, ledger.city, ledger.today
    plans = [pl for pl in city.all_plans() if not pl.project.is_package]
    started = [pl.project for pl in plans if pl.project.stage == "construction"]
    pending = [pl.project for pl in plans if pl.project.stage in ("preparing", "signed")]
    owner = ledger.accounts["owner"]
    owned = [p for p in started + pending if p.owner_unit_id == owner.unit_id]
    dept_of = {"jiaotong": "infra-transport", "shuili": "infra-water", "zhujian": "urban-renewal"}
    codes = list(DIRECT_WEIGHTS)
    made = []
    for n in range(56):
        category = rng.choices(codes, weights=[DIRECT_WEIGHTS[c] for c in codes])[0]
        if n < 6 and owned:
            project, raiser, source = owned[n % len(owned)], owner, Source.PROJECT_UNIT
        elif n < 9:
            project = rng.choice(started)
            raiser, source = ledger.accounts["leader"], Source.VISIT
        elif n < 15:
            username = ("jiaotong", "shuili", "zhujian")[n % 3]
            matches = [
                pl.project
                for pl in plans
                if pl.industry == dept_of[username]
                and pl.project.stage in ("construction", "preparing", "signed")
            ]
            project = rng.choice(matches or started)
            raiser, source = ledger.accounts[username], Source.DEPARTMENT
        else:
            project = rng.choice(started + pending)
            raiser = ledger.county_users.get(project.region_id) or ledger.accounts["admin"]
            source = Source.COUNTY if raiser.role == Role.COUNTY else Source.CITY
        title, description, request = rng.choice(DIRECT[category])
        seg = rng.choice(city.towns.get(project.region.code) or ["城区"])
        k = rng.randint(2, 60)
        raised = _aware(today - timedelta(days=rng.randint(3, 330)), rng)
        item = ledger.new(
            project=project,
            category=ledger.categories[category],
            source=source,
            title=title.format(seg=seg, k=k),
            description=description.format(seg=seg, k=k),
            request=request,
            raised_by=raiser,
            raising_unit=raiser.unit,
            at=raised,
            urgency=rng.choice((Urgency.NORMAL, Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL)),
        )
        made.append((item, category, project))
    # The project unit's and the leader's: one waiting for the reporter, one reopened, one in hand.
    forced = {0: "resolved", 1: "reopened", 2: "assigned", 6: "assigned", 7: "resolved"}
    splits = [i for i in range(15, len(made)) if made[i][1] == "land"][:2]
    for n, (item, category, project) in enumerate(made):
        lead = rng.choice(DIRECT_LEADS[category])
        county_level = lead == "county" and project.region_id in ledger.county_users
        analyst = ledger.analyst(project, county_level)
        if n in splits:
            _split(ledger, item, analyst, project)
            continue
        unit, leader = ledger.lead(project, lead)
        co = [ledger.city.departments[s] for s in ("市发改委",) if rng.random() < 0.2]
        raised = item.problem.created_at
        end = raised + timedelta(days=rng.randint(10, 80))
        if n in forced:
            _forced(ledger, item, analyst, unit, leader, co, raised, forced[n])
        else:
            _workflow(ledger, item, analyst, unit, leader, co, raised, min(end, ledger.now))
    _escalations(ledger)
    _extensions(ledger)


def _forced(ledger, item, analyst, unit, leader, co, raised, fate) -> None:
    rng, now = ledger.rng, ledger.now
    t = max(raised, now - timedelta(days=70))
    item.problem.created_at = t
    item.events[0] = (*item.events[0][:3], t)
    ledger.accept(item, analyst, t + timedelta(days=1))
    ledger.assign(item, analyst, t + timedelta(days=3), unit, leader, co, 75, False)
    ledger.progress(item, unit, t + timedelta(days=6), rng.choice(NOTES))
    if fate == "assigned":
        return
    ledger.resolve(item, t + timedelta(days=25), RESOLUTIONS[item.problem.category.code])
    if fate == "reopened":
        ledger.confirm(item, t + timedelta(days=28), False, rng.choice(UNSATISFIED).format(k=3))
        ledger.progress(item, unit, t + timedelta(days=35), "已按反映人意见重新制定方案，正在推进。")


def _split(ledger: Ledger, item: Item, analyst, project) -> None:
    """Split into a land part for natural resources and a funds part for finance, each assigned."""
    rng, p = ledger.rng, item.problem
    at = p.created_at + timedelta(days=2)
    parts = [
        ("land", "市自然资源和规划局", "用地报批部分：" + p.description),
        ("funds", "市财政局", "征地补偿资金部分：征地补偿款需纳入财政预算统筹保障。"),
    ]
    children = []
    for code, short, description in parts:
        child = ledger.new(
            project=project,
            category=ledger.categories[code],
            source=p.source,
            title=_title(description),
            description=description,
            request=p.request,
            raised_by=p.raised_by,
            raising_unit=p.raising_unit,
            at=at,
            parent=p,
        )
        child.events[0] = (
            analyst,
            "problem_raise",
            {"parent": item, "category": ledger.categories[code].name},
            at,
        )
        c = child.problem
        c.status, c.level, c.accepted_by, c.accepted_at = (
            Status.ACCEPTED,
            Level.CITY if analyst.role == Role.CITY_ADMIN else Level.COUNTY,
            analyst,
            at,
        )
        children.append((child, short))
    p.status, p.level = Status.SPLIT, Level.CITY if analyst.role == Role.CITY_ADMIN else Level.COUNTY
    ledger.step(item, analyst, "problem_split", {"sub_items": [c for c, _ in children]}, at)
    for child, short in children:
        unit, leader = ledger.lead(project, short)
        _workflow(ledger, child, analyst, unit, leader, [], at, at + timedelta(days=rng.randint(20, 60)))


def _escalations(ledger: Ledger) -> None:
    """Two hard city-level problems in handling go to the vice-mayor in charge."""
    rng = ledger.rng
    hard = [
        i
        for i in ledger.items
        if i.problem.status in (Status.ASSIGNED, Status.REOPENED)
        and i.problem.level == Level.CITY
        and i.problem.category.code in ("land", "funds", "forest")
        and i.problem.lead_unit.short_name in ledger.leader_of
        and i.problem.assigned_at < ledger.now - timedelta(days=30)
    ]
    for item in hard[:2]:
        p = item.problem
        leader = ledger.leader_of[p.lead_unit.short_name]
        admin = ledger.accounts["admin"]
        at = p.assigned_at + timedelta(days=rng.randint(12, 20))
        reason = "该问题涉及多个部门，经多次协调仍未解决，提请分管副市长召开专题协调会。"
        p.escalated_to = leader
        ledger.step(item, admin, "problem_escalate", {"leader": str(leader), "reason": reason}, at)
        meeting = (at + timedelta(days=rng.randint(3, 8))).date()
        meeting = min(meeting, ledger.today - timedelta(days=1))
        minutes = (
            f"{meeting:%m月%d日}，{leader.name}副市长主持召开专题协调会，{p.lead_unit.name}、"
            f"{p.project.region.name}政府及项目单位参加。会议听取了问题情况汇报，明确由{p.lead_unit.short_name}牵头，"
            "属地政府配合，倒排工期、限时解决。"
        )
        tasks = [
            (
                f"{p.lead_unit.short_name}在两周内拿出具体解决方案报市政府",
                p.lead_unit,
                meeting + timedelta(days=14),
                True,
            ),
            (
                "属地政府做好群众工作和现场保障",
                ledger.lead(p.project, "county")[0],
                meeting + timedelta(days=30),
                False,
            ),
        ]
        recorded = _aware(meeting, rng)
        item.coordination = (leader, reason, admin, at, meeting, minutes, tasks)
        ledger.step(
            item,
            admin,
            "problem_coordination",
            {
                "leader": str(leader),
                "meeting_date": meeting,
                "minutes": minutes,
                "tasks": [f"{text}（{unit}，{due:%Y-%m-%d}前）" for text, unit, due, _ in tasks],
            },
            max(recorded, at + timedelta(hours=2)),
            bump=False,
        )
        p.updated_at = max(p.updated_at, recorded)


def _extensions(ledger: Ledger) -> None:
    """A pending request on two items in handling whose deadline is near; one approved earlier."""
    rng, today = ledger.rng, ledger.today
    near = [
        i
        for i in ledger.items
        if i.problem.status == Status.ASSIGNED
        and i.problem.deadline
        and today <= i.problem.deadline <= today + timedelta(days=40)
        and i.problem.lead_unit_id in ledger.handlers
        and i.problem.assigned_at < ledger.now - timedelta(days=5)
    ]
    for n, item in enumerate(near[:3]):
        p = item.problem
        lead = ledger.handlers[p.lead_unit_id]
        at = max(p.updated_at, ledger.now - timedelta(days=rng.randint(2, 4)))
        until = p.deadline + timedelta(days=30)
        reason = rng.choice(EXTENSION_REASONS)
        ext = Extension(
            problem=p,
            previous_deadline=p.deadline,
            requested_date=until,
            reason=reason,
            requested_by=lead,
            requested_at=at,
        )
        item.extensions.append(ext)
        ledger.step(
            item,
            lead,
            "problem_extension_request",
            {"from": p.deadline, "until": until, "reason": reason},
            at,
            bump=False,
        )
        if n == 2:
            decided = at + timedelta(hours=20)
            if decided < ledger.now:
                ext.state, ext.decided_by, ext.decided_at = Extension.State.APPROVED, p.assigned_by, decided
                p.deadline, p.deadline_workdays = until, None
                ledger.step(
                    item,
                    p.assigned_by,
                    "problem_extension_decide",
                    {"approved": True, "until": until, "note": ""},
                    decided,
                )


def _ensure_everyone_has_work(ledger: Ledger) -> None:
    """Every department login handles something: a unit with no item in handling joins one as a
    co-unit (added before the events are written, so the assignment's event names it)."""
    handling = [i for i in ledger.items if i.problem.status in (Status.ASSIGNED, Status.REOPENED)]
    for _username, short in data.DEPARTMENT_ACCOUNTS:
        unit = ledger.city.departments[short]
        if any(i.problem.lead_unit_id == unit.pk or unit in i.co_units for i in handling):
            continue
        for item in handling:
            if item.problem.lead_unit_id != unit.pk and len(item.co_units) < 2:
                item.co_units.append(unit)
                for _actor, verb, details, _at in reversed(item.events):
                    if verb == "problem_assign":
                        details["co_units"].append(unit.name)
                        break
                break


# --- writing -----------------------------------------------------------------------------------


def _stamped(model, objs: list, names: list[str]) -> None:
    """bulk_create, then put back the historical values auto_now/auto_now_add overwrote."""
    if not objs:
        return
    kept = [[getattr(o, n) for n in names] for o in objs]
    model.objects.bulk_create(objs, batch_size=builder.BATCH)
    for obj, values in zip(objs, kept, strict=True):
        for name, value in zip(names, values, strict=True):
            setattr(obj, name, value)
    dispatch._update(objs, names)


def _write(ledger: Ledger) -> None:
    items = ledger.items
    # Parents and merge targets first: children point at saved rows.
    roots = [i for i in items if i.problem.parent is None and i.problem.status != Status.MERGED]
    root_ids = {id(i) for i in roots}
    others = [i for i in items if id(i) not in root_ids]
    _stamped(Problem, [i.problem for i in roots], ["created_at", "updated_at"])
    _stamped(Problem, [i.problem for i in others], ["created_at", "updated_at"])
    through = Problem.co_units.through
    through.objects.bulk_create(
        [through(problem_id=i.problem.pk, unit_id=u.pk) for i in items for u in i.co_units]
    )
    _stamped(ProgressNote, [n for i in items for n in i.notes], ["created_at"])
    _stamped(Confirmation, [c for i in items for c in i.confirmations], ["at"])
    _stamped(Extension, [e for i in items for e in i.extensions], ["requested_at"])
    tasks = []
    for item in items:
        if not item.coordination:
            continue
        leader, reason, admin, at, meeting, minutes, plan = item.coordination
        coordination = Coordination(
            problem=item.problem,
            leader=leader,
            reason=reason,
            requested_by=admin,
            requested_at=at,
            meeting_date=meeting,
            minutes=minutes,
            recorded_by=admin,
        )
        _stamped(Coordination, [coordination], ["requested_at"])
        for text, unit, due, done in plan:
            tasks.append(
                CoordinationTask(
                    coordination=coordination,
                    text=text,
                    unit=unit,
                    due_date=due,
                    done=done,
                    done_at=_aware(min(due, ledger.today), ledger.rng) if done else None,
                )
            )
    CoordinationTask.objects.bulk_create(tasks)
    events = []
    for item in items:
        p = item.problem
        for actor, verb, details, at in item.events:
            resolved = {
                k: (
                    v.problem.pk
                    if isinstance(v, Item)
                    else [x.problem.pk if isinstance(x, Item) else x for x in v]
                    if isinstance(v, list)
                    else v
                )
                for k, v in details.items()
            }
            events.append(_event(actor, verb, "problem", p.pk, p.title, p.project, _jsonable(resolved), at))
    write_events(events)


def _supervise(today: date) -> dict:
    """The daily supervision as it would have run: the last day of each of the past three months,
    then today. Its records and events are dated to the run."""
    runs, month = [], escalation.month_start(today)
    for _ in range(3):
        runs.insert(0, month - timedelta(days=1))  # the last day of the month before
        month = escalation.month_start(month - timedelta(days=1))
    runs.append(today)
    totals = {"notices": 0, "first_reply": 0, "progress": 0}
    for day in runs:
        last_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_record = Escalation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        counts = escalation.escalate(day)
        for k, v in counts.items():
            totals[k] += v
        if day != today:
            at = datetime.combine(day, time(7, 30), tzinfo=TZ)
            Event.objects.filter(pk__gt=last_event, verb__startswith="problem_").update(at=at)
            Escalation.objects.filter(pk__gt=last_record).update(created_at=at)
    return totals


def clear_problems(projects) -> None:
    """Delete the problems of `projects` (for builder.clear_demo). Merged and split items point at
    their target and parent with PROTECT, which a project's cascade cannot pass, so those links
    are cut first."""
    problems = Problem.objects.filter(project__in=projects)
    problems.exclude(merged_into=None, parent=None).update(merged_into=None, parent=None)
    problems.delete()
