"""Twenty-four months of dispatch (调度) history for the demo city, ending "now".

Runs after the rest of the city (builder.build_demo calls `build_dispatch` last) and keeps drawing
from the city's random generator, so the same seed on the same day gives the same history. Dates
hang off `timezone.localdate()`: the 24 complete months before the current one, the current month
open, and the last complete month open for review.

What it decides, in order:
1. last-but-one year's annual lists (the builder lists two years; the window reaches a third);
2. lifecycle: nothing happens after the last complete month; some planned new starts of this year
   start and some projects due this year complete (stage, actual dates, consistent with listings);
   statistics inclusion (入统) a few weeks after the start, some started projects still pending;
3. the default schedules start with the window (the weekly one eight weeks back) and get their
   periods, with deadlines from reporting.periods.span_for (statutory calendar); past ones locked;
4. per project and period it owes (the rules of periods.matching_projects, applied to the dates
   the project had then): a report with a status on a timeline (on time, late, missing, returned
   and resubmitted), a seasonal amount near the year's plan, totals derived the way
   recompute_totals derives them, rising percent complete, milestones, progress texts, problems,
   next month's plan and funds arrived and paid;
5. a few events and correction requests, the counted money the figures read (YearDone, rebuilt
   by reporting.totals); then periods.open_periods(today), which finds every slot in place.
Ten thousand reports go in with one prepared INSERT (`_insert`: the ORM's bulk_create spends
seconds preparing their values); everything else with bulk_create. Same seed, same day, same
history, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
import random
import time as clock
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from majorprojects.accounts.models import User
from majorprojects.audit.models import Event
from majorprojects.audit.services import event_record
from majorprojects.core.workdays import next_workday
from majorprojects.projects.models import AnnualListing, FundingSource, KeyLevel, ListKind, Stage
from majorprojects.reporting.models import (
    Correction,
    Frequency,
    Period,
    Report,
    ReportFunds,
    Schedule,
    Status,
)
from majorprojects.reporting.periods import open_periods, spans_until
from majorprojects.reporting.totals import year_done_rebuild

from . import builder, data

DEFAULT_SCHEDULES = importlib.import_module(
    "majorprojects.reporting.migrations.0002_default_schedules"
).SCHEDULES
MONTHS = 24
TZ = timezone.get_default_timezone()
WEEKS = 8
ZERO = Decimal(0)
PRE_START = (Stage.CONCEIVED, Stage.RESERVED, Stage.PREPARING, Stage.SIGNED)

# Share of a year's investment done in each month: slow in January–February (Spring Festival,
# cold weather), peaks in the second quarter and in the fourth, with the December rush.
SEASON = {
    1: 0.45,
    2: 0.40,
    3: 0.85,
    4: 1.05,
    5: 1.2,
    6: 1.35,
    7: 0.95,
    8: 0.9,
    9: 1.1,
    10: 1.05,
    11: 1.15,
    12: 1.55,
}
# Locked months: never sent; sent after the deadline; sent back once and resent.
MISSING = {"locked": 0.02, "review": 0.05, "current": 0.03}
LATE = 0.05
BOUNCED = 0.006
# The last complete month, while the counties review it.
REVIEW_MIX = (("approved", 0.62), ("submitted", 0.32), ("returned", 0.06))
# Days before the deadline reports are sent (weekly ones: the first four), cumulative weights.
LEAD_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 8)
LEAD_WEIGHTS = tuple(accumulate((18, 16, 14, 12, 10, 9, 8, 7, 6)))

# --- vocabulary ---------------------------------------------------------------------------

KINDS = {
    "infra-transport": "road",
    "infra-water": "water",
    "eco-environment": "water",
    "urban-utilities": "pipe",
    "infra-energy": "energy",
    "industry-mfg": "plant",
    "industry-material": "plant",
    "industry-electron": "plant",
    "industry-biomed": "plant",
    "industry-logistics": "plant",
    "infra-newinfra": "plant",
    "industry-agri": "field",
    "eco-forestry": "field",
}  # everything else builds buildings
PHASE_ENDS = (12, 40, 75, 96, 101)  # percent complete at which each phase of the works ends
# Physical progress by kind and phase; a project keeps one wording per phase, so its figures rise
# month by month: {n} share of the phase's works, {f} floor reached, {k} a count, {seg} a place.
PROGRESS = {
    "road": (
        ("完成线路复测、清表和施工便道建设，{seg}段征地拆迁完成{n}%", "施工单位已进场，桥梁桩基完成{n}%"),
        ("路基土石方完成{n}%，涵洞完成{k}道", "桥梁下部结构完成{n}%，路基防护同步施工"),
        ("路基基本成型，路面基层完成{n}%", "桥梁上部结构架设完成{n}%，路面基层同步施工"),
        ("路面面层完成{n}%，交通安全设施同步施工", "沥青路面摊铺完成{n}%，标志标线施工中"),
        ("工程基本完工，正在进行缺陷整改和交工验收准备", "主体工程全部完成，正在整理交工验收资料"),
    ),
    "water": (
        ("完成施工导流和围堰填筑，{seg}段清基完成{n}%", "施工单位已进场，临时设施和施工道路完成{n}%"),
        ("堤防填筑完成{n}%，护岸完成{k}处", "主体土方开挖完成{n}%，基础处理同步施工"),
        ("主体工程完成{n}%，闸站土建施工中", "主体构筑物完成{n}%，防渗工程施工中"),
        ("设备及闸门安装完成{n}%，附属工程施工中", "管理设施和配套道路完成{n}%"),
        ("工程基本完工，正在进行通水验收准备", "主体工程全部完成，正在整理竣工验收资料"),
    ),
    "pipe": (
        ("完成管线探测和施工围挡，{seg}片区沟槽开挖完成{n}%", "施工单位已进场，交通导改完成{n}%"),
        ("主管网铺设完成{n}%，检查井砌筑同步推进", "沟槽开挖完成{n}%，管道基础施工中"),
        ("主管网基本贯通，支管网完成{n}%", "泵站土建完成{n}%，管网闭水试验同步进行"),
        ("路面恢复完成{n}%，设备安装调试中", "附属设施完成{n}%，正在进行管网联调"),
        ("工程基本完工，正在进行竣工验收准备", "管网全部通水，正在整理竣工验收资料"),
    ),
    "building": (
        ("基坑开挖及支护完成{n}%", "桩基施工完成{n}%，承台施工启动"),
        ("主体结构施工至第{f}层", "{k}栋楼主体结构施工中，完成{n}%"),
        ("主体结构封顶，砌体工程完成{n}%", "主体结构基本完成，二次结构及机电预埋完成{n}%"),
        ("室内装饰装修完成{n}%，机电安装同步推进", "外立面装饰及室外配套工程完成{n}%"),
        ("室外景观绿化收尾，正在进行竣工验收准备", "完成消防验收和规划核实，组织竣工验收"),
    ),
    "plant": (
        ("完成场地平整和临时设施，厂房桩基完成{n}%", "土方开挖及基础施工完成{n}%"),
        ("厂房主体结构完成{n}%", "钢结构厂房构件吊装完成{n}%"),
        ("厂房主体结构封顶，屋面及墙面围护完成{n}%", "生产设备到货{n}%，设备基础施工完成"),
        ("生产设备安装完成{n}%，单机调试进行中", "生产线安装完成{n}%，厂区配套工程同步施工"),
        ("设备联动试车完成，正在试生产", "正在办理消防、环保等专项验收"),
    ),
    "energy": (
        ("场内道路和施工临建完成{n}%，设备基础施工启动", "升压站场地平整完成，集电线路测量放线完成{n}%"),
        ("设备基础浇筑完成{n}%", "升压站土建施工完成{n}%"),
        ("主设备到货{n}%，安装施工中", "主要设备安装完成{n}%，集电线路架设同步推进"),
        ("升压站电气设备安装调试完成{n}%", "送出线路完成{n}%，准备并网验收"),
        ("已具备并网条件，正在消缺和竣工验收准备", "已并网运行，正在办理竣工验收"),
    ),
    "field": (
        ("完成作业设计和施工放样，{seg}片区整地完成{n}%", "施工单位进场，清表完成{n}%"),
        ("土地整治和沟渠施工完成{n}%", "苗木栽植完成{n}%"),
        ("田间道路和灌排设施完成{n}%", "主体种植任务完成，抚育管护完成{n}%"),
        ("配套设施完成{n}%", "补植补造和附属设施完成{n}%"),
        ("完成自查验收，正在准备上级验收", "全部建设任务完成，正在整理验收资料"),
    ),
}
FOCUS = {
    "road": (
        "征地拆迁和路基施工",
        "路基土石方和桥涵施工",
        "路面及桥梁上部结构施工",
        "路面和交安工程",
        "交工验收",
    ),
    "water": ("施工导流和基础处理", "主体土方和堤防填筑", "主体构筑物施工", "设备安装和附属工程", "竣工验收"),
    "pipe": ("沟槽开挖和管道铺设", "主管网铺设", "支管网和泵站施工", "路面恢复和设备调试", "竣工验收"),
    "building": (
        "基坑支护和桩基施工",
        "主体结构施工",
        "二次结构和机电安装",
        "装饰装修和室外配套",
        "竣工验收",
    ),
    "plant": (
        "厂房基础施工",
        "厂房主体和钢结构吊装",
        "设备采购和设备基础施工",
        "设备安装调试",
        "试生产和专项验收",
    ),
    "energy": ("设备基础和场内道路施工", "升压站土建施工", "主设备安装", "调试和送出线路施工", "并网验收"),
    "field": ("整地和施工放样", "土地整治和种植", "配套设施建设", "补植补造和管护", "项目验收"),
}
NEXT_PLAN = (
    "加快{focus}，计划完成投资{amount}万元。",
    "全力推进{focus}，确保完成月度投资{amount}万元。",
    "推进{focus}，抓好安全生产和质量管理，计划完成投资{amount}万元。",
    "增加作业面和施工人员，推进{focus}，计划完成投资{amount}万元。",
)
# Pre-construction steps: (where it stands, what comes next).
PREP = (
    ("项目已完成谋划论证，正在编制项目建议书", "完成项目建议书编制并报批"),
    ("项目建议书已批复，正在编制可行性研究报告", "完成可行性研究报告编制并报审"),
    ("可行性研究报告已报审，正在办理用地预审与选址意见书", "取得用地预审与选址意见书"),
    ("已取得用地预审与选址意见书，环境影响评价报告已报审", "取得环评批复，推进初步设计"),
    ("初步设计及概算已报审", "完成初步设计及概算批复"),
    ("施工图设计基本完成，正在开展施工图审查", "完成施工图审查，启动施工招标"),
    ("施工招标公告已发布", "完成施工招标，办理施工许可"),
    ("已完成施工招标，正在办理施工许可证", "取得施工许可证，组织施工单位进场"),
    ("施工许可证已办理，施工单位正在进场准备", "举行开工仪式，全面开工建设"),
)
PREP_CEILING = {Stage.CONCEIVED: 1, Stage.RESERVED: 3, Stage.PREPARING: 7, Stage.SIGNED: 8}
# (kinds, months, "pre"-start / "build" / "" both, needs a special bond, problem, next-plan action)
PROBLEMS = (
    (
        "road water pipe building",
        (),
        "build",
        False,
        "{seg}尚有{k}户房屋未完成征收签约，影响施工作业面移交。",
        "协调推进剩余房屋征收",
    ),
    ("", (), "", False, "新增建设用地报批手续尚未获批，部分工程无法全面施工。", "跟进用地报批"),
    (
        "road water field energy",
        (),
        "",
        False,
        "使用林地审核手续正在报批，影响{seg}段施工。",
        "跟进使用林地审核",
    ),
    (
        "",
        (),
        "build",
        False,
        "项目资本金到位不足，工程款支付压力较大，影响施工进度。",
        "多渠道筹措项目资本金",
    ),
    (
        "",
        (),
        "build",
        True,
        "专项债券资金尚未拨付到位，施工单位垫资压力较大。",
        "对接财政部门加快债券资金拨付",
    ),
    ("", (), "build", False, "施工用电增容尚未落实，大型设备无法满负荷运行。", "协调供电部门落实施工用电"),
    (
        "road pipe",
        (),
        "build",
        False,
        "沿线燃气、通信管线迁改滞后，影响沟槽和路基施工。",
        "协调管线产权单位加快迁改",
    ),
    ("", (), "pre", False, "施工图审查意见整改中，施工许可证尚未取得。", "完成施工图修改并办理施工许可"),
    ("", (), "pre", False, "环境影响评价报告尚待批复。", "跟进环评审批"),
    ("", (), "pre", False, "项目资本金和融资方案尚未落实。", "对接金融机构落实融资方案"),
    ("", (), "build", False, "钢材、商品混凝土等主要建材价格上涨，施工成本增加。", "优化施工组织、控制成本"),
    ("", (5, 6, 7, 8), "build", False, "受持续强降雨影响，土方和露天作业受阻。", "抢抓晴好天气组织施工"),
    ("", (12, 1, 2), "build", False, "受低温雨雪冰冻天气影响，混凝土浇筑暂停。", "做好冬季施工防护"),
    ("", (1, 2), "build", False, "春节前后务工人员返乡，施工人员不足。", "组织工人节后尽早返岗"),
    ("plant energy", (), "build", False, "主要设备到货延迟，影响安装进度。", "督促设备厂家按期供货"),
)
STATS_PENDING = (
    "入统佐证资料正在整理，计划下周报送统计部门",
    "已向统计部门提交入统申请，待审核",
    "施工合同、发票等入统资料收集中",
    "统计部门已上门指导，正在补充入统资料",
)
WEEKLY_PROBLEMS = ("施工合同尚未备案，暂不满足入统条件。", "项目单位财务核算不规范，入统资料需补充。")
RETURN_REASONS = (
    "本期完成投资与形象进度不匹配，请核实后重新报送。",
    "形象进度描述过于简单，请补充主要工程量完成情况。",
    "资金到位和支付数据与财政拨付记录不一致，请核实。",
    "下期计划未写明具体工程量和投资目标，请补充。",
    "本期完成投资较上月明显增加，请在情况说明中说明原因。",
)
NOTE_JUMP = (
    "本月集中结算前期已完成工程量，完成投资较前期明显增加。",
    "本月主要设备到货并完成安装计量，完成投资较大。",
    "本月完成主体工程计量支付，完成投资较前期明显增加。",
)
NOTE_DECEMBER = "年底集中完成工程计量和进度款支付，完成投资较前期明显增加。"
NOTE_CATCH_UP = "上期未按时报送，本期完成投资含上期完成数。"
# Funds tracked per report, with the months each kind of money usually arrives in.
ARRIVALS = {
    FundingSource.SPECIAL_BOND: (3, 4, 5, 6, 8, 9, 10),
    FundingSource.CENTRAL_BUDGET: (4, 5, 9, 10, 11),
    FundingSource.ULTRA_LONG_BOND: (5, 6, 7, 10),
    FundingSource.POLICY_FINANCE: (3, 6, 9, 12),
    FundingSource.BANK_LOAN: tuple(range(1, 13)),
}


# --- context ------------------------------------------------------------------------------


@dataclass
class Row:
    """One report being built, with what decides it before it is written."""

    period: Period
    report: Report
    must_fill: bool = False  # carries a milestone: sent and (if under review) approved
    content: str = "none"  # none (a blank slot) / partial (a draft never sent) / full
    amount: Decimal | None = None
    caught_up: bool = False
    bounced: bool = False
    applied: list[str] = field(default_factory=list)  # milestones the approval moved
    times: dict = field(default_factory=dict)

    @property
    def money(self) -> bool:
        return self.period.frequency != Frequency.WEEKLY


@dataclass
class Track:
    """One reporting project's history."""

    plan: builder.Plan
    kind: str
    filler: User
    reviewer: User
    ratio: float
    first_year: int
    phys: float
    wording: dict = field(default_factory=dict)  # one phrase per phase, a count, a floor count, a place
    rows: list[Row] = field(default_factory=list)
    prior: Decimal = ZERO
    final: float = 0.0  # since-start at completion, for projects completing within the window

    @property
    def project(self):
        return self.plan.project


@dataclass
class History:
    city: builder.City
    rng: random.Random
    today: date
    now: datetime
    month: date  # first day of the current month
    window_start: date  # first day of the first month of history
    cutoff: date  # last day of the last complete month: nothing happens after it
    users: dict[str, User]
    schedules: list[Schedule] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    events: list[tuple[dict, datetime]] = field(default_factory=list)
    funds: list[tuple[Row, str, Decimal, Decimal]] = field(default_factory=list)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _at(rng: random.Random, day: date) -> datetime:
    """A moment in office hours on `day`, in the local time zone."""
    return datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=TZ)


def _amount(value: float) -> Decimal:
    """An amount in 万元 as a monthly ledger shows it: whole 万元 from 100 up, one decimal below."""
    if value <= 0.05:
        return ZERO
    if value >= 100:
        return Decimal(round(value))
    return Decimal(str(round(value, 1)))


def _phase(h: History, period: Period) -> str:
    if period.locked_at:
        return "locked"
    return "review" if period.ends_on < h.today else "current"


# --- the whole history --------------------------------------------------------------------


def build_dispatch(city: builder.City) -> dict:
    """Build the history into the database and return what was made (see `history_summary`)."""
    started = clock.monotonic()
    today = timezone.localdate()
    if city.year != today.year:
        raise ValueError("调度历史截至今天，只能为今年的演示城市生成；其他年份请传 history=False。")
    month = date(today.year, today.month, 1)
    h = History(
        city=city,
        rng=city.rng,
        today=today,
        now=timezone.now(),
        month=month,
        window_start=_add_months(month, -MONTHS),
        cutoff=month - timedelta(days=1),
        users={u.username: u for u in city.accounts},
    )
    clear_dispatch(restore=False)
    _earlier_listings(h)
    _settle_lifecycle(h)
    _schedules(h)
    _periods(h)
    _tracks(h)
    _completion_plans(h)
    for track in h.tracks:
        _slots(h, track)
        for row in track.rows:
            _status(h, track, row)
    _review_mix(h)
    for track in h.tracks:
        _money(h, track)
        _content(h, track)
        _funds(h, track)
    _write(h)
    opened = open_periods(today)
    return history_summary(
        h.schedules,
        today,
        seconds=clock.monotonic() - started,
        slots_added=sum(r["added"] for r in opened),
        slots_removed=sum(r["removed"] for r in opened),
    )


def clear_dispatch(*, restore: bool = True) -> None:
    """Remove what a history leaves once the demo's projects (and so their reports) are gone:
    the empty periods of the default schedules and their events; with `restore`, the schedules
    start with the current month again, as on a new deployment."""
    schedules = Schedule.objects.filter(name__in=[s["name"] for s in DEFAULT_SCHEDULES])
    empty = Period.objects.filter(schedule__in=schedules).exclude(
        Exists(Report.objects.filter(period=OuterRef("pk")))
    )
    ids = [str(pk) for pk in empty.values_list("pk", flat=True)]
    Event.objects.filter(target_type="period", target_id__in=ids).delete()
    empty.delete()
    if restore and not Period.objects.filter(schedule__in=schedules).exists():
        today = timezone.localdate()
        schedules.update(starts_on=date(today.year, today.month, 1))


# --- lists and lifecycle ------------------------------------------------------------------


def _earlier_listings(h: History) -> None:
    """The lists of the year before last (the window reaches into it), built by the builder's own
    rule and capped so a project's plans over the years never exceed its total."""
    city, year = h.city, h.today.year - 2
    rows = []

    def listing_for(plan: builder.Plan) -> None:
        listing = builder._listing(city, plan, year)
        if listing is None:
            return
        later = sum((x.planned_investment for x in plan.listings.values()), ZERO)
        listing.planned_investment = min(
            listing.planned_investment, max(plan.project.total_investment - later, ZERO)
        )
        plan.listings[year] = listing
        rows.append(listing)

    for plan in city.plans:
        if not plan.children:
            listing_for(plan)
            continue
        for child in plan.children:
            listing_for(child)
        parts = [c.listings[year] for c in plan.children if year in c.listings]
        if parts:
            construction = any(x.list_kind == ListKind.CONSTRUCTION for x in parts)
            plan.listings[year] = AnnualListing(
                project=plan.project,
                year=year,
                list_kind=ListKind.CONSTRUCTION if construction else ListKind.RESERVE,
                key_level=KeyLevel.CITY,
                planned_investment=sum((x.planned_investment for x in parts), ZERO),
                planned_start=min((x.planned_start for x in parts if x.planned_start), default=None),
                planned_completion=max(
                    (x.planned_completion for x in parts if x.planned_completion), default=None
                ),
                is_new_start=all(x.is_new_start for x in parts),
                target="各子项目按年度计划推进。",
            )
            rows.append(plan.listings[year])
    AnnualListing.objects.bulk_create(rows, batch_size=builder.BATCH)


def _reporting_plans(city: builder.City):
    for plan in city.plans:
        yield from plan.children or [plan]


def _settle_lifecycle(h: History) -> None:
    """Nothing after the last complete month; this year's planned new starts start (about two in
    three, when their planned date has passed) and projects due this year complete (about three in
    five); statistics inclusion a few weeks after the start."""
    rng, cutoff, year = h.rng, h.cutoff, h.today.year
    for plan in _reporting_plans(h.city):
        p = plan.project
        if p.actual_completion_date and p.actual_completion_date > cutoff:
            p.actual_completion_date, p.stage = None, Stage.CONSTRUCTION
        if p.actual_start_date and p.actual_start_date > cutoff:
            p.actual_start_date, p.stage = None, Stage.SIGNED
        listing = plan.listings.get(year)
        if (
            p.stage in (Stage.SIGNED, Stage.PREPARING)
            and listing
            and listing.is_new_start
            and p.planned_start_date
        ):
            day = p.planned_start_date + timedelta(days=rng.randint(-5, 45))
            if rng.random() < 0.65 and day <= cutoff and day.year == year:
                p.stage, p.actual_start_date, p.start_year = Stage.CONSTRUCTION, day, year
        elif p.stage == Stage.CONSTRUCTION and p.planned_completion_date:
            day = p.planned_completion_date + timedelta(days=rng.randint(-20, 30))
            if (
                rng.random() < 0.6
                and day <= cutoff
                and day.year == year
                and day > p.actual_start_date + timedelta(days=180)
            ):
                p.stage, p.actual_completion_date, p.end_year = Stage.COMPLETED, day, year
        start, done = p.actual_start_date, p.actual_completion_date
        included = start + timedelta(days=rng.randint(12, 80)) if start else None
        if included and done:
            included = min(included, done)
        pending = rng.random() < 0.07 and start and not done and start >= h.window_start
        if included and included <= cutoff and not pending:
            p.stats_included, p.stats_included_date = True, included
    for plan in h.city.plans:
        if plan.children:
            starts = [c.project.actual_start_date for c in plan.children if c.project.actual_start_date]
            p = plan.project
            p.actual_start_date = min(starts, default=None)
            p.stage = Stage.CONSTRUCTION if starts else Stage.SIGNED


# --- schedules and periods ----------------------------------------------------------------


def _schedules(h: History) -> None:
    """The default schedules (reporting migration 0002) start with the window; the weekly one
    eight weeks back."""
    monday = h.today - timedelta(days=h.today.weekday())
    for spec in DEFAULT_SCHEDULES:
        schedule, _ = Schedule.objects.get_or_create(
            name=spec["name"], defaults={**spec, "starts_on": h.month}
        )
        weekly = schedule.frequency == Frequency.WEEKLY
        schedule.starts_on = monday - timedelta(weeks=WEEKS) if weekly else h.window_start
        schedule.save(update_fields=["starts_on"])
        h.schedules.append(schedule)


def _locked(h: History, period: Period) -> bool:
    if period.frequency == Frequency.WEEKLY:
        return period.ends_on < h.today - timedelta(days=h.today.weekday() + 7)
    return period.ends_on < _add_months(h.month, -1)


def _periods(h: History) -> None:
    """Every period of the schedules up to today; all closed ones locked by the city admin a
    little after their deadline, except the last complete month (and week), still under review."""
    admin = h.users["admin"]
    for schedule in h.schedules:
        for span in spans_until(schedule, h.today):
            period = Period(
                schedule=schedule,
                frequency=schedule.frequency,
                year=span.year,
                number=span.number,
                label=span.label,
                starts_on=span.starts_on,
                ends_on=span.ends_on,
                due_on=span.due_on,
                late_after=span.late_after,
            )
            if _locked(h, period):
                delay = 5 if schedule.frequency == Frequency.WEEKLY else 12
                day = next_workday(span.late_after + timedelta(days=delay))
                period.locked_at = min(timezone.make_aware(datetime.combine(day, time(17, 30))), h.now)
                period.locked_by = admin
            h.periods.append(period)
    Period.objects.bulk_create(h.periods)
    for period in h.periods:
        period.opened_at = timezone.make_aware(datetime.combine(period.starts_on, time(0, 5)))
    Period.objects.bulk_update(h.periods, ["opened_at"])
    h.periods.sort(key=lambda p: (p.ends_on, p.schedule.order))


# --- reporting projects -------------------------------------------------------------------


def _tracks(h: History) -> None:
    rng, city = h.rng, h.city
    counties = {c[0]: h.users[c[4]] for c in data.COUNTIES}
    departments = {city.departments[short].pk: h.users[name] for name, short in data.DEPARTMENT_ACCOUNTS}
    owner_unit = city.units[data.OWNER_ACCOUNT_UNIT]
    for package in city.plans:
        for plan in package.children or [package]:
            p = plan.project
            reviewer = (
                counties.get(p.region.code)
                or departments.get(p.responsible_department_id)
                or h.users["admin"]
            )
            own = p.owner_unit_id == owner_unit.pk or package.project.owner_unit_id == owner_unit.pk
            draw = rng.random()
            if draw < 0.15:
                ratio = rng.uniform(1.0, 1.15)  # ahead of plan
            elif draw < 0.8:
                ratio = rng.uniform(0.7, 0.95)
            elif draw < 0.93:
                ratio = rng.uniform(0.5, 0.7)
            else:
                ratio = rng.uniform(0.15, 0.45)  # far behind
            h.tracks.append(
                Track(
                    plan=plan,
                    kind=KINDS.get(plan.industry, "building"),
                    filler=h.users["owner"] if own else reviewer,
                    reviewer=reviewer,
                    ratio=ratio,
                    first_year=min(plan.listings, default=h.today.year),
                    phys=rng.uniform(0.92, 1.08),
                    wording={
                        "pick": [rng.randrange(2) for _ in PHASE_ENDS],
                        "k": rng.randint(2, 9),
                        "floors": rng.randint(6, 24),
                        "seg": rng.choice(city.towns.get(p.region.code) or ["城区"]),
                    },
                )
            )


def _stage_at(p, day: date) -> str:
    if p.actual_completion_date and p.actual_completion_date <= day:
        return p.stage
    if p.actual_start_date and p.actual_start_date <= day:
        return Stage.CONSTRUCTION
    return p.stage if p.stage in PRE_START else Stage.SIGNED


def _owes(h: History, track: Track, period: Period) -> bool:
    """periods.matching_projects, applied to the lists of the period's year and to the stage and
    statistics status the project had then (for open periods: the ones it has now). A project
    reports quarterly only from the first year it was listed."""
    p, schedule = track.project, period.schedule
    if p.actual_completion_date and p.actual_completion_date < period.starts_on:
        return False
    on = min(h.today, period.ends_on)
    if schedule.list_kinds:
        listing = track.plan.listings.get(period.starts_on.year)
        kind = listing.list_kind if listing else "unlisted"
        if kind not in schedule.list_kinds or (
            kind == "unlisted" and period.starts_on.year < track.first_year
        ):
            return False
    if schedule.stages and _stage_at(p, on) not in schedule.stages:
        return False
    if schedule.stats_pending_only:
        if _stage_at(p, on) != Stage.CONSTRUCTION:
            return False
        if p.stats_included_date and p.stats_included_date < period.starts_on:
            return False
    return True


def _within(day: date | None, period: Period) -> bool:
    return bool(day) and period.starts_on <= day <= period.ends_on


def _slots(h: History, track: Track) -> None:
    p = track.project
    for period in h.periods:
        if not _owes(h, track, period):
            continue
        report = Report(period_id=period.pk, project_id=p.pk, period_end=period.ends_on)
        if period.frequency == Frequency.WEEKLY:
            must = _within(p.stats_included_date, period)
        else:
            must = any(
                _within(d, period)
                for d in (p.actual_start_date, p.actual_completion_date, p.stats_included_date)
            )
        track.rows.append(Row(period=period, report=report, must_fill=must))


# --- statuses -----------------------------------------------------------------------------


def _status(h: History, track: Track, row: Row) -> None:
    """Where the report stands today, from a timeline: drafted, sent (mostly in the last days
    before the deadline, some late), reviewed; locked periods were closed after all that."""
    rng, period = h.rng, row.period
    weekly = period.frequency == Frequency.WEEKLY
    phase = _phase(h, period)
    draw = rng.random()
    missing = draw < MISSING[phase] and not row.must_fill
    late = MISSING[phase] <= draw < MISSING[phase] + LATE
    if late:
        day = period.late_after + timedelta(days=rng.randint(1, 3 if weekly else 9))
    else:
        days = 4 if weekly else len(LEAD_DAYS)
        lead = rng.choices(LEAD_DAYS[:days], cum_weights=LEAD_WEIGHTS[:days])[0]
        day = max(period.due_on - timedelta(days=lead), period.starts_on)
    sent = _at(rng, day)
    drafted = _at(rng, max(day - timedelta(days=rng.randint(0, 1 if weekly else 4)), period.starts_on))
    reviewed = sent + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 6))
    pick, reason = rng.random(), rng.choice(RETURN_REASONS)
    row.times = {"sent": sent, "reviewed": reviewed, "reason": reason}
    if phase == "locked":
        if missing:
            _set(row, Status.DRAFT if pick < 0.35 else Status.PENDING, track)
            return
        bounced = sent + timedelta(days=3, hours=2)  # returned the next day, resent, approved
        row.bounced = not weekly and pick < BOUNCED and bounced < period.locked_at - timedelta(hours=2)
        last = period.locked_at - timedelta(hours=2)
        reviewed = bounced if row.bounced else max(min(reviewed, last), sent + timedelta(minutes=30))
        _set(row, Status.LOCKED, track, sent=sent, reviewed=reviewed)
    elif phase == "review":
        if missing or sent > h.now:
            _set(row, Status.DRAFT if pick < 0.35 else Status.PENDING, track)
            return
        reviewed = min(sent + timedelta(days=rng.randint(1, 8)), h.now - timedelta(hours=1))
        state = Status.APPROVED
        if not row.must_fill:
            state = Status.SUBMITTED if pick > REVIEW_MIX[0][1] else state
            state = Status.RETURNED if pick > 1 - REVIEW_MIX[2][1] else state
        _set(row, state, track, sent=sent, reviewed=reviewed, reason=reason)
    elif sent <= h.now and not missing:
        _set(row, Status.SUBMITTED, track, sent=sent)
    elif drafted <= h.now:
        _set(row, Status.DRAFT, track, full=True)
    else:
        _set(row, Status.PENDING, track)


def _set(row: Row, status: str, track: Track, *, sent=None, reviewed=None, reason="", full=False) -> None:
    r = row.report
    r.status = status
    r.submitted_at = sent
    r.is_late = bool(sent) and timezone.localtime(sent).date() > row.period.late_after
    r.reviewed_at = r.reviewed_by_id = None
    r.return_reason = ""
    if status in (Status.APPROVED, Status.RETURNED, Status.LOCKED):
        r.reviewed_at, r.reviewed_by_id = reviewed, track.reviewer.pk
    if status == Status.RETURNED:
        r.return_reason = reason
    r.filled_by_id = None if status == Status.PENDING else track.filler.pk
    if status == Status.PENDING:
        row.content, r.version = "none", 1
    elif status == Status.DRAFT:
        row.content, r.version = ("full", 3) if full else ("partial", 2)
    else:
        row.content = "full"
        r.version = {Status.SUBMITTED: 4}.get(status, 5) + (3 if row.bounced else 0)


def _review_mix(h: History) -> None:
    """The month under review shows every state, however small the city."""
    review = [p for p in h.periods if p.frequency == Frequency.MONTHLY and _phase(h, p) == "review"]
    if not review:
        return
    rows = [(t, r) for t in h.tracks for r in t.rows if r.period is review[0] and not r.must_fill]

    def having(*statuses):
        return [(t, r) for t, r in rows if r.report.status in statuses]

    if len(rows) < 12:
        return
    for track, row in having(Status.SUBMITTED)[: max(0, 2 - len(having(Status.RETURNED)))]:
        _set(
            row,
            Status.RETURNED,
            track,
            sent=row.report.submitted_at,
            reviewed=h.now - timedelta(hours=3),
            reason=row.times["reason"],
        )
    for track, row in having(Status.APPROVED)[: max(0, 2 - len(having(Status.PENDING, Status.DRAFT)))]:
        _set(row, Status.PENDING, track)
    for track, row in having(Status.APPROVED)[: max(0, 1 - len(having(Status.SUBMITTED)))]:
        _set(row, Status.SUBMITTED, track, sent=row.report.submitted_at)


# --- money --------------------------------------------------------------------------------


def _building(p, first: date, last: date) -> bool:
    start, done = p.actual_start_date, p.actual_completion_date
    return bool(start) and start <= last and (done is None or done >= first)


def _weight(first: date, last: date) -> dict[int, float]:
    """Seasonal weight of the months from `first` to `last`, by year."""
    out: dict[int, float] = {}
    month = date(first.year, first.month, 1)
    while month <= last:
        out[month.year] = out.get(month.year, 0) + SEASON[month.month]
        month = _add_months(month, 1)
    return out


def _completion_plans(h: History) -> None:
    """A project completing within the window spent its whole investment between its start and
    its completion: its yearly plans say so (the builder's yearly shares suit longer projects),
    its packages' plans follow, and its pace is the plan's."""
    rng, changed = h.rng, []
    for track in h.tracks:
        p = track.project
        start, end = p.actual_start_date, p.actual_completion_date
        if not (start and end and end >= h.window_start):
            continue
        track.final = float(p.total_investment) * rng.uniform(0.88, 0.98)
        track.ratio = rng.uniform(0.95, 1.03)
        weights = _weight(start, end)
        whole = sum(weights.values())
        for year, listing in sorted(track.plan.listings.items()):
            if listing.list_kind == ListKind.CONSTRUCTION and year in weights:
                others = sum(
                    (x.planned_investment for y, x in track.plan.listings.items() if y != year), ZERO
                )
                share = builder._wan(track.final * weights[year] / whole)
                listing.planned_investment = min(share, max(p.total_investment - others, ZERO))
                changed.append(listing)
    for package in h.city.plans:
        for year, listing in package.listings.items() if package.children else ():
            parts = [c.listings[year].planned_investment for c in package.children if year in c.listings]
            listing.planned_investment = sum(parts, ZERO)
            changed.append(listing)
    if changed:
        _update(changed, ["planned_investment"])


def _year_plan(h: History, track: Track, year: int) -> dict[int, float]:
    """The amounts (万元) a project does month by month in `year`: its listing's plan spread along
    the seasonal curve from the planned start (a plan for the last months of a year is spread as
    if over five months at least: a late start falls behind) to the planned completion, times the
    project's pace, with noise, for the months it actually builds."""
    rng, p = h.rng, track.project
    listing = track.plan.listings.get(year)
    if not listing or listing.list_kind != ListKind.CONSTRUCTION or not listing.planned_investment:
        return {}
    first = listing.planned_start.month if listing.planned_start and listing.planned_start.year == year else 1
    last = (
        listing.planned_completion.month
        if listing.planned_completion and listing.planned_completion.year == year
        else 12
    )
    scheduled = sum(SEASON[m] for m in range(first, max(first, last) + 1))
    if not (p.actual_completion_date and p.actual_completion_date >= h.window_start):
        scheduled = max(scheduled, 5.0)
    pace = float(listing.planned_investment) * track.ratio / scheduled
    amounts = {}
    for month in range(1, 13):
        day = date(year, month, 1)
        weight = SEASON[month] * rng.uniform(0.6, 1.4)
        if p.total_investment < 8000 and rng.random() < 0.15:
            weight = 0  # a small project idles some months
        if _building(p, day, _add_months(day, 1) - timedelta(days=1)):
            amounts[month] = pace * weight
    return amounts


def _money(h: History, track: Track) -> None:
    """This period's amounts: the plan month by month; a report never sent carries nothing and
    the next one sent catches up; then fitted under the total investment together with the
    investment done before the platform (prior_investment)."""
    rng, p = h.rng, track.project
    plans: dict[tuple[int, int], float] = {}
    rows = [r for r in track.rows if r.money]
    for year in sorted({r.period.year for r in rows if r.period.frequency == Frequency.MONTHLY}):
        plans |= {(year, m): v for m, v in _year_plan(h, track, year).items()}
    carry = ZERO
    for row in rows:
        monthly = row.period.frequency == Frequency.MONTHLY
        intended = _amount(plans.get((row.period.year, row.period.number), 0)) if monthly else ZERO
        if row.content == "full":
            row.amount, row.caught_up, carry = intended + carry, carry > 0, ZERO
        else:
            carry += intended
    filled = [r for r in rows if r.amount is not None]
    done_in_window = sum((r.amount for r in filled), ZERO)
    total = p.total_investment
    start, end = p.actual_start_date, p.actual_completion_date
    before = bool(start) and start < h.window_start
    reserve = float(total) * rng.uniform(0.05, 0.2)
    if not start:
        return
    if end and end < h.window_start:
        track.prior = _amount(float(total) * rng.uniform(0.88, 0.98))
        return
    if end:
        whole = sum(_weight(start, end).values())
        share = sum(_weight(start, h.window_start - timedelta(days=1)).values()) / whole if before else 0
        target = track.final * (1 - share)
        scale = target / float(done_in_window) if done_in_window else 1
        _scale(filled, min(max(scale, 0.5), 2.0) if before else scale)
        prior = track.final - float(sum((r.amount for r in filled), ZERO)) if before else 0
    else:
        room = float(total) - reserve
        if float(done_in_window) > room:
            _scale(filled, room * rng.uniform(0.85, 0.97) / float(done_in_window))
        span = max((p.planned_completion_date or h.today) - start, timedelta(days=720)).days
        estimate = float(total) * min((h.window_start - start).days / span, 0.9) * rng.uniform(0.85, 1.1)
        prior = min(estimate, room - float(sum((r.amount for r in filled), ZERO))) if before else 0
    track.prior = _amount(max(prior, 0))
    done = sum((r.amount for r in filled), ZERO)
    if done > total * Decimal("0.99"):
        _scale(filled, float(total) * 0.97 / float(done))
        track.prior = ZERO
    excess = track.prior + sum((r.amount for r in filled), ZERO) - total
    if excess > 0:
        track.prior = max(track.prior - excess, ZERO)


def _scale(rows: list[Row], factor: float) -> None:
    for row in rows:
        row.amount = _amount(float(row.amount) * factor)


# --- content ------------------------------------------------------------------------------


def _position(percent: int) -> tuple[int, float]:
    """The phase of the works at `percent` complete, and how far into it (0–1)."""
    index = next(i for i, end in enumerate(PHASE_ENDS) if percent < end)
    low = PHASE_ENDS[index - 1] if index else 0
    return index, (percent - low) / (PHASE_ENDS[index] - low)


def _phrase(track: Track, percent: int) -> str:
    index, within = _position(percent)
    words = track.wording
    options = PROGRESS[track.kind][index]
    return options[words["pick"][index] % len(options)].format(
        n=min(95, max(10, int(within * 20) * 5)),
        k=words["k"],
        f=max(1, round(within * words["floors"])),
        seg=words["seg"],
    )


def _problem(h: History, track: Track, row: Row, building: bool, behind: bool) -> tuple[str, str] | None:
    rng = h.rng
    if rng.random() >= (0.16 if behind else 0.05):
        return None
    special = FundingSource.SPECIAL_BOND in track.plan.funding
    choices = [
        (text, action)
        for kinds, months, when, bond, text, action in PROBLEMS
        if (not kinds or track.kind in kinds.split())
        and (not months or row.period.number in months)
        and when in ("", "build" if building else "pre")
        and (special or not bond)
    ]
    text, action = rng.choice(choices)
    towns = h.city.towns.get(track.project.region.code) or ["城区"]
    return text.format(seg=rng.choice(towns), k=rng.randint(3, 40)), action


def _content(h: History, track: Track) -> None:
    """Totals (as services.recompute_totals derives them), percent complete, milestones, texts and
    notes, row by row in period order."""
    rng, p = h.rng, track.project
    total, start, end = p.total_investment, p.actual_start_date, p.actual_completion_date
    running, year, year_total = track.prior, None, ZERO
    before, positive = ZERO, 0
    percent = None
    if start and start < h.window_start:
        percent = min(95, int(float(track.prior) / float(total) * 100 * track.phys))
    prep = 0
    problem: tuple[str, str] | None = None
    problem_left = 0
    # The main structure is done the month percent complete first passes this (buildings and
    # plants only; not recorded when that happened before the platform or in an unapproved report).
    structure_at = rng.uniform(55, 72) if track.kind in ("building", "plant") else None
    behind = track.ratio < 0.5
    money_rows = [r for r in track.rows if r.money]
    for row in track.rows:
        r, period = row.report, row.period
        if period.ends_on.year != year:
            year, year_total = period.ends_on.year, ZERO
        r.investment = row.amount
        running += row.amount or 0
        year_total += row.amount or 0
        r.year_to_date, r.since_start = year_total, running
        if row.content == "none":
            continue
        building = _building(p, period.starts_on, period.ends_on)
        if not row.money:
            _weekly(h, track, row, percent or 0)
            continue
        if building:
            target = float(running) / float(total) * 100 * track.phys
            percent = 100 if _within(end, period) else max(percent or 0, min(99, round(target)))
            text = _phrase(track, percent)
            if _within(start, period):
                text = f"{start.month}月{start.day}日正式开工建设，{text}"
        else:
            prep = _prep_step(track, period, prep)
            text = PREP[prep][0]
            planned = p.planned_start_date
            if planned and planned < period.starts_on:
                text += f"，原计划{planned.year}年{planned.month}月开工，尚未开工"
        if row.content == "partial":
            r.progress = text + "。"
            continue
        r.percent_complete = Decimal(percent if building else 0)
        if problem_left <= 0:
            late = not building and p.planned_start_date and p.planned_start_date < period.starts_on
            problem, problem_left = _problem(h, track, row, building, behind or late), rng.randint(1, 4)
        problem_left -= 1
        if problem:
            r.problems = problem[0]
        crew = max(15, int(float(row.amount or 0) / 10)) if building else 0
        if building and rng.random() < 0.5:
            text += f"；现场投入施工人员{crew}人、大型机械{crew // 12 + 2}台（套）"
        r.progress = text + "。"
        r.next_plan = _next_plan(h, track, row, money_rows, building, percent, prep)
        if problem and not _within(end, period):
            r.next_plan = f"{problem[1]}；{r.next_plan}"
        structure = False
        if building and structure_at is not None and percent >= structure_at:
            structure = not (start < h.window_start and positive == 0 and before == 0)
            structure = (
                structure and r.status in (Status.LOCKED, Status.APPROVED) and period.ends_on <= h.cutoff
            )
            structure_at = None
        _milestones(h, track, row, structure)
        if _within(end, period):
            operating = "并投入运营" if p.stage == Stage.OPERATING else ""
            r.progress = f"项目已完成全部建设内容，{end.month}月{end.day}日通过竣工验收{operating}。"
            r.next_plan = "做好竣工决算、资产移交和运营准备工作。"
        if r.stats_date:
            r.progress = r.progress[:-1] + "；项目已纳入固定资产投资统计。"
        amount = row.amount or ZERO
        schedule = period.schedule
        if row.caught_up:
            r.note = NOTE_CATCH_UP
        elif amount > 0:
            average = before / positive if positive else None
            remaining = total - track.prior - before
            if (average and amount > average * schedule.jump_multiple) or (
                positive and remaining > 0 and amount > remaining * schedule.remaining_share
            ):
                r.note = NOTE_DECEMBER if period.number == 12 else rng.choice(NOTE_JUMP)
        before += amount
        positive += amount > 0


def _prep_step(track: Track, period: Period, step: int) -> int:
    """How far pre-construction work has got: two months a step back from the planned start,
    never backwards, within what the project's stage allows."""
    p = track.project
    ceiling = PREP_CEILING.get(p.stage, len(PREP) - 1)
    if p.planned_start_date:
        months = (
            (p.planned_start_date.year - period.ends_on.year) * 12
            + p.planned_start_date.month
            - period.number
        )
        target = len(PREP) - 1 - max(months, 0) // 2
    else:
        target = (period.ends_on.year - track.first_year) * 2 + 1
    return max(step, min(max(target, 0), ceiling))


def _next_plan(h: History, track: Track, row: Row, money_rows, building, percent, prep) -> str:
    rng = h.rng
    if not building:
        return f"{PREP[min(prep, len(PREP) - 1)][1]}。"
    index = money_rows.index(row)
    following = money_rows[index + 1].amount if index + 1 < len(money_rows) else None
    amount = float(following if following is not None else row.amount or 0) * rng.uniform(0.95, 1.25)
    index, within = _position(percent)
    focus = FOCUS[track.kind][min(index + (within > 0.8), 4)]
    return rng.choice(NEXT_PLAN).format(focus=focus, amount=_amount(max(amount, 1)))


def _milestones(h: History, track: Track, row: Row, structure: bool) -> None:
    """Start, main structure, completion (and operation) and statistics inclusion in the month
    they happened; the project carries the dates already (its reports were approved)."""
    rng, p, r, period = h.rng, track.project, row.report, row.period
    start, end = p.actual_start_date, p.actual_completion_date
    applied = []
    if _within(start, period):
        r.started_on = start
        applied.append("started")
    if structure:
        first, last = max(period.starts_on, start), min(period.ends_on, end or period.ends_on)
        p.main_structure_date = r.structure_done_on = first + timedelta(
            days=rng.randint(0, (last - first).days)
        )
        applied.append("main_structure_date")
    if _within(end, period):
        r.completed_on = end
        applied.append("completed")
        if p.stage == Stage.OPERATING:
            r.operating_on = min(end + timedelta(days=rng.randint(0, 10)), period.ends_on, h.cutoff)
            applied.append("operating")
    if start and start <= period.ends_on:
        r.stats_included = bool(p.stats_included_date and p.stats_included_date <= period.ends_on)
        if _within(p.stats_included_date, period):
            r.stats_date = p.stats_included_date
            applied += ["stats_included", "stats_included_date"]
    row.applied = applied


def _weekly(h: History, track: Track, row: Row, percent: int) -> None:
    rng, p, r = h.rng, track.project, row.report
    phrase = _phrase(track, max(percent, 1))
    r.stats_included = False
    if _within(p.stats_included_date, row.period):
        day = p.stats_included_date
        r.stats_included, r.stats_date = True, day
        r.progress = f"本周{phrase}；经统计部门审核，项目已于{day.month}月{day.day}日纳入固定资产投资统计。"
        return
    r.progress = f"本周{phrase}；{rng.choice(STATS_PENDING)}。"
    if row.content == "full":
        r.next_plan = "加快入统资料准备，争取尽快纳入统计。"
        if rng.random() < 0.2:
            r.problems = rng.choice(WEEKLY_PROBLEMS)


def _funds(h: History, track: Track) -> None:
    """Programme money arriving in tranches in the months it usually comes and paid out with the
    works, so that what is paid never runs ahead of what has arrived."""
    rng, p = h.rng, track.project
    sources = [s for s in ARRIVALS if s in track.plan.funding]
    rows = [r for r in track.rows if r.money and r.amount and r.amount > 0 and r.content == "full"]
    if not sources or len(rows) < 2 or rng.random() < 0.25:
        return
    done = float(sum((r.amount for r in rows), ZERO))
    for source in sources:
        budget = float(track.plan.funding[source]) * done / float(p.total_investment) * rng.uniform(0.6, 1.0)
        candidates = [r for r in rows if r.period.number in ARRIVALS[source]]
        if budget < 20 or not candidates:
            continue
        count = min(
            len(candidates), rng.randint(2, 5) if source == FundingSource.BANK_LOAN else rng.randint(1, 3)
        )
        tranches = sorted(rng.sample(candidates, count), key=rows.index)
        shares = [rng.uniform(0.5, 1.5) for _ in tranches]
        arrivals = {id(r): budget * s / sum(shares) for r, s in zip(tranches, shares, strict=True)}
        following = rows[rows.index(tranches[0]) :]
        work = float(sum((r.amount for r in following), ZERO))
        balance = 0
        for row in following:
            arrived = int(arrivals.get(id(row), 0))
            balance += arrived
            paid = min(balance, int(budget * float(row.amount) / work * rng.uniform(0.6, 1.3)))
            balance -= paid
            if arrived or paid:
                h.funds.append((row, source, Decimal(arrived), Decimal(paid)))


# --- writing ------------------------------------------------------------------------------


def _write(h: History) -> None:
    for track in h.tracks:
        track.project.prior_investment = track.prior
    for package in h.city.plans:
        if package.children:
            package.project.prior_investment = sum(
                (c.project.prior_investment for c in package.children), ZERO
            )
    _update(
        [plan.project for package in h.city.plans for plan in (package, *package.children)],
        [
            "stage",
            "actual_start_date",
            "actual_completion_date",
            "start_year",
            "end_year",
            "stats_included",
            "stats_included_date",
            "main_structure_date",
            "prior_investment",
        ],
    )
    rows = [row for track in h.tracks for row in track.rows]
    _insert([row.report for row in rows])
    ids = {
        (period, project): pk
        for pk, period, project in Report.objects.filter(period__in=h.periods).values_list(
            "pk", "period_id", "project_id"
        )
    }
    for row in rows:
        row.report.pk = ids[row.period.pk, row.report.project_id]
        row.report._state.adding = False
    _insert([ReportFunds(report_id=row.report.pk, source=s, arrived=a, paid=p) for row, s, a, p in h.funds])
    year_done_rebuild([track.project.pk for track in h.tracks])  # the counted money the figures read
    for track in h.tracks:
        for row in track.rows:
            _row_events(h, track, row)
    locked = Counter(row.period.pk for row in rows if row.report.status == Status.LOCKED)
    owed = Counter(row.period.pk for row in rows)
    for period in h.periods:
        if period.locked_at:
            counts = {"locked": locked[period.pk], "missing": owed[period.pk] - locked[period.pk]}
            h.events.append(
                (
                    {"actor": h.users["admin"], "verb": "period_lock", "target": period, "details": counts},
                    period.locked_at,
                )
            )
    _corrections(h)
    made = [event_record(**kwargs) for kwargs, _ in h.events]
    for event, (_, at) in zip(made, h.events, strict=True):
        event.at = at
    Event.objects.bulk_update(made, ["at"], batch_size=500)


def _prepared(field, ops):
    """How the backend wants a field's value (dates and times differ between SQLite and
    PostgreSQL); None when the driver takes it as it is."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return None


def _insert(objs: list) -> None:
    """bulk_create without the ORM compiler's per-value overhead, which dominates at ten thousand
    reports: one prepared INSERT run for every row. Primary keys are not set."""
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for obj in objs:
        for f in fields:
            if getattr(f, "auto_now", False) or (
                getattr(f, "auto_now_add", False) and getattr(obj, f.attname) is None
            ):
                setattr(obj, f.attname, now)
    columns = ", ".join(_quoted(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model and are quoted; values are parameters.
    _execute(f"INSERT INTO {_quoted(meta.db_table)} ({columns}) VALUES ({marks})", objs, fields)  # noqa: S608


def _update(objs: list, names: list[str]) -> None:
    """bulk_update without its CASE expressions (slow for hundreds of rows): one prepared UPDATE
    run for every row."""
    meta = type(objs[0])._meta
    fields = [meta.get_field(name) for name in names] + [meta.pk]
    sets = ", ".join(f"{_quoted(f.column)} = %s" for f in fields[:-1])
    where = _quoted(meta.pk.column)
    _execute(f"UPDATE {_quoted(meta.db_table)} SET {sets} WHERE {where} = %s", objs, fields)  # noqa: S608


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(sql: str, objs: list, fields: list) -> None:
    ops = connection.ops
    adapters = [(f.attname, _prepared(f, ops)) for f in fields]
    params = [
        [
            value if adapt is None or value is None else adapt(value)
            for name, adapt in adapters
            for value in (getattr(obj, name),)
        ]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        for first in range(0, len(params), 2000):
            cursor.executemany(sql, params[first : first + 2000])


def _row_events(h: History, track: Track, row: Row) -> None:
    """The trail of the reports that were sent back: submit, return, (resubmit, approve)."""
    r, p = row.report, track.project
    if not (row.bounced or r.status == Status.RETURNED):
        return
    sent, reason = r.submitted_at, row.times["reason"]
    sent_back = sent + timedelta(days=1, hours=2)
    trail = [
        ("report_submit", track.filler, sent, {"investment": r.investment, "late": r.is_late}),
        (
            "report_return",
            track.reviewer,
            r.reviewed_at if r.status == Status.RETURNED else sent_back,
            {"reason": reason},
        ),
    ]
    if row.bounced:
        trail += [
            (
                "report_resubmit",
                track.filler,
                sent_back + timedelta(days=1),
                {"investment": r.investment, "late": r.is_late},
            ),
            ("report_approve", track.reviewer, r.reviewed_at, {"applied": row.applied}),
        ]
    for verb, actor, at, details in trail:
        target = {"target": r, "target_label": f"{p} · {row.period}", "project": p}
        h.events.append(({**target, "actor": actor, "verb": verb, "details": details}, at))


def _corrections(h: History) -> None:
    """Three requests to change locked reports: one approved (the report holds the corrected
    amount), one waiting for the city, one rejected with a reason."""
    rng, admin = h.rng, h.users["admin"]
    recent = _add_months(h.month, -8)
    candidates = [
        (track, row)
        for track in h.tracks
        for row in track.rows
        if row.report.status == Status.LOCKED
        and row.money
        and (row.amount or 0) >= 50
        and recent <= row.period.starts_on
        and not row.report.completed_on
    ]
    seen, picked = set(), []
    for track, row in rng.sample(candidates, min(len(candidates), 30)):
        if track.project.pk not in seen and len(picked) < 3:
            seen.add(track.project.pk)
            picked.append((track, row))
    states = (Correction.State.APPROVED, Correction.State.PENDING, Correction.State.REJECTED)
    corrections = []
    for state, (track, row) in zip(states, picked, strict=False):
        r, label = row.report, row.period.label
        amount = r.investment
        delta = _amount(float(amount) * rng.uniform(0.08, 0.2))
        requested = min(row.period.locked_at + timedelta(days=rng.randint(3, 30)), h.now - timedelta(days=3))
        if state == Correction.State.APPROVED:
            changes = {"investment": [str(amount + delta), str(amount)]}
            reason = f"经监理单位计量复核，{label}完成投资多报{delta}万元（含未经计量的材料款），申请更正为{amount}万元。"
            note = "经核实监理计量资料，同意更正。"
        elif state == Correction.State.PENDING:
            changes = {"investment": [str(amount), str(amount - delta)]}
            reason = f"与统计部门联网直报数据核对，{label}完成投资应为{amount - delta}万元，申请更正。"
            note = ""
        else:
            changes = {"investment": [str(amount), str(amount + delta)]}
            reason = f"{label}漏报设备采购款{delta}万元，申请补报。"
            note = "设备尚未到货安装，不符合完成投资统计口径，不予更正，请在设备安装当月据实填报。"
        correction = Correction(
            report=r,
            changes=changes,
            reason=reason,
            state=state,
            requested_by=track.filler,
            decision_note=note,
        )
        if state != Correction.State.PENDING:
            correction.decided_by, correction.decided_at = admin, requested + timedelta(days=2, hours=3)
        corrections.append((correction, requested))
        base = {"target": r, "target_label": f"{track.project} · {label}", "project": track.project}
        h.events.append(
            (
                {
                    **base,
                    "actor": track.filler,
                    "verb": "correction_request",
                    "details": {**changes, "reason": reason},
                },
                requested,
            )
        )
        if state != Correction.State.PENDING:
            verb = "correction_approve" if state == Correction.State.APPROVED else "correction_reject"
            details = {**changes, "note": note} if state == Correction.State.APPROVED else {"note": note}
            h.events.append(
                ({**base, "actor": admin, "verb": verb, "details": details}, correction.decided_at)
            )
    Correction.objects.bulk_create([c for c, _ in corrections])
    for correction, requested in corrections:
        correction.requested_at = requested
    Correction.objects.bulk_update([c for c, _ in corrections], ["requested_at"])


# --- what was made ------------------------------------------------------------------------


def history_summary(schedules, today: date, **extra) -> dict:
    """Counts of the history as it is in the database."""
    reports = Report.objects.filter(period__schedule__in=schedules)
    closed = Q(period__locked_at__isnull=False)
    counts = reports.aggregate(
        reports=Count("pk"),
        monthly=Count("pk", filter=Q(period__frequency=Frequency.MONTHLY)),
        quarterly=Count("pk", filter=Q(period__frequency=Frequency.QUARTERLY)),
        weekly=Count("pk", filter=Q(period__frequency=Frequency.WEEKLY)),
        late=Count("pk", filter=Q(is_late=True)),
        missing=Count("pk", filter=closed & Q(submitted_at__isnull=True)),
        returned=Count("pk", filter=Q(status=Status.RETURNED)),
        started=Count("pk", filter=Q(started_on__isnull=False)),
        completed=Count("pk", filter=Q(completed_on__isnull=False)),
        current=Count("pk", filter=Q(period__frequency=Frequency.MONTHLY, period__ends_on__gte=today)),
    )
    months = Period.objects.filter(schedule__in=schedules, frequency=Frequency.MONTHLY).order_by("starts_on")
    past = [p.label for p in months if p.ends_on < today]
    current = months.filter(ends_on__gte=today).first()
    return {
        **counts,
        "months": len(past),
        "first": past[0] if past else "",
        "last": past[-1] if past else "",
        "current_label": current.label if current else "",
        "periods": Period.objects.filter(schedule__in=schedules).count(),
        "funds": ReportFunds.objects.filter(report__in=reports).count(),
        "corrections": Correction.objects.filter(report__in=reports).count(),
        **extra,
    }
