"""What a ledger column can mean: the import's target fields and the header texts that name them.

Headers are matched on a canonical form (full-width folded, spaces, punctuation and the unit in
brackets removed), so "项 目 名 称", "项目单位（业主）" and "总投资（亿元）" all match exactly one
entry below. A year in front ("2025年计划投资") is taken off and becomes the file's year."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from majorprojects.core.money import WAN, YI
from majorprojects.core.text import compact


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    synonyms: tuple[str, ...]
    # Synonyms that only count with a year in front: "2025年计划投资", "2025年度投资计划".
    year_synonyms: tuple[str, ...] = ()


FIELDS = [
    Field("index", "序号", ("序号", "编号", "序", "NO", "No")),
    Field("name", "项目名称", ("项目名称", "名称", "项目", "建设项目名称", "项目建设名称", "项目全称")),
    Field(
        "code",
        "项目代码",
        (
            "项目代码",
            "项目编码",
            "备案代码",
            "项目统一代码",
            "统一项目代码",
            "投资项目代码",
            "项目赋码",
            "审批代码",
            "备案核准代码",
            "项目代码备案核准审批",
        ),
    ),
    Field(
        "region",
        "所在区域",
        (
            "所在区域",
            "所在地",
            "所属地区",
            "所属区域",
            "县市区",
            "所在县市区",
            "县市区园区",
            "地区",
            "区域",
            "属地",
            "所在地区",
        ),
    ),
    Field(
        "owner_unit",
        "项目单位",
        (
            "项目单位",
            "建设单位",
            "项目业主",
            "业主单位",
            "项目法人",
            "项目法人单位",
            "项目单位业主",
            "业主",
            "实施单位",
            "项目建设单位",
            "项目实施单位",
        ),
    ),
    Field("sector", "项目类别", ("项目类别", "项目类型", "类别", "类型", "项目分类", "所属领域", "领域")),
    Field("industry", "所属行业", ("所属行业", "行业", "行业类别", "行业分类", "国民经济行业", "所属产业")),
    Field(
        "content",
        "建设内容及规模",
        (
            "建设内容及规模",
            "建设规模及内容",
            "建设内容",
            "建设规模",
            "主要建设内容",
            "主要建设内容及规模",
            "建设内容和规模",
            "建设规模和内容",
            "建设性质规模及内容",
        ),
    ),
    Field("address", "建设地点", ("建设地点", "建设地址", "项目地址", "项目地点", "地点", "建设位置")),
    Field(
        "approval_regime",
        "审批类型",
        ("审批类型", "审批方式", "立项方式", "项目审批类型", "审批核准备案", "管理类型", "立项类型"),
    ),
    Field(
        "years",
        "建设起止年限",
        (
            "建设起止年限",
            "起止年限",
            "建设年限",
            "建设期限",
            "起止年份",
            "建设起止年份",
            "建设起止年度",
            "建设周期",
            "起止时间",
            "建设起止时间",
        ),
    ),
    Field("start_year", "开工年份", ("开工年份", "开工年度", "建设起始年", "起始年份", "起始年")),
    Field("end_year", "竣工年份", ("竣工年份", "竣工年度", "完工年份", "建设截止年", "截止年份", "截止年")),
    Field(
        "total_investment",
        "总投资",
        (
            "总投资",
            "项目总投资",
            "计划总投资",
            "总投资额",
            "估算总投资",
            "总投资合计",
            "投资总额",
            "概算总投资",
        ),
    ),
    Field(
        "planned_investment",
        "年度计划投资",
        (
            "年度计划投资",
            "本年计划投资",
            "本年度计划投资",
            "当年计划投资",
            "年度投资计划",
            "年度计划完成投资",
            "本年计划完成投资",
            "年计划投资",
        ),
        year_synonyms=("计划投资", "投资计划", "计划完成投资", "计划", "计划投资额"),
    ),
    Field("list_kind", "库别", ("库别", "项目库别", "入库类别", "清单类别", "所属库", "项目库")),
    Field("key_level", "重点级别", ("重点级别", "重点类别", "项目级别", "级别", "重点项目级别", "重点层级")),
    Field(
        "new_start",
        "新开工/续建",
        (
            "新开工续建",
            "续建新开工",
            "新开工或续建",
            "建设性质",
            "项目性质",
            "新建续建",
            "是否新开工",
            "新开工",
        ),
    ),
    Field(
        "planned_start_date",
        "计划开工日期",
        ("计划开工日期", "计划开工时间", "计划开工", "开工时间", "预计开工时间", "拟开工时间", "开工日期"),
    ),
    Field(
        "planned_completion_date",
        "计划竣工日期",
        (
            "计划竣工日期",
            "计划竣工时间",
            "计划竣工",
            "竣工时间",
            "计划完工时间",
            "预计竣工时间",
            "拟竣工时间",
            "竣工日期",
        ),
    ),
    Field("stage", "项目阶段", ("项目阶段", "阶段", "所处阶段", "项目进展阶段", "建设阶段", "项目状态")),
    Field("actual_start_date", "实际开工日期", ("实际开工日期", "实际开工时间")),
    Field("actual_completion_date", "实际竣工日期", ("实际竣工日期", "实际竣工时间")),
    Field(
        "responsible_department",
        "责任部门",
        ("责任部门", "牵头部门", "行业主管部门", "主管部门", "责任单位牵头部门"),
    ),
    Field("package_leader", "包联领导", ("包联领导", "联系领导", "责任领导", "包保领导", "挂点领导")),
    Field("work_group", "工作专班", ("工作专班", "专班")),
    Field("contact_name", "项目负责人", ("项目负责人", "负责人", "联系人")),
    Field("contact_phone", "联系电话", ("联系电话", "联系方式", "电话", "手机")),
    Field("private", "民间投资", ("民间投资", "是否民间投资", "民间投资项目")),
    Field("high_tech", "高技术产业", ("高技术产业", "是否高技术产业", "高技术", "高技术产业项目")),
    Field(
        "target", "年度建设目标", ("年度建设目标", "年度目标", "年度建设内容", "形象进度目标", "年度形象进度")
    ),
    Field("tags", "标签", ("标签",)),
    Field("parent", "所属打包项目", ("所属打包项目", "打包项目")),
]
BY_KEY = {f.key: f for f in FIELDS}
AMOUNT_FIELDS = {"total_investment", "planned_investment"}
# Columns that describe the year's listing rather than the project itself.
LISTING_FIELDS = {"planned_investment", "list_kind", "key_level", "new_start", "target"}
# Sub-headers under a merged "总投资" that mean the total itself.
TOTAL_WORDS = {"合计", "小计", "总计", "总额", "金额", "计"}
START_WORDS = {"起", "开工", "开始", "起始", "开工年份", "开工年度", "开工时间", "开工年"}
END_WORDS = {"止", "竣工", "完工", "结束", "截止", "竣工年份", "竣工年度", "竣工时间", "完工时间", "竣工年"}

_UNIT_IN_HEADER = re.compile(r"\((?:单位:?)?(亿元|万元|元)\)|单位:?(亿元|万元|元)")
_PUNCT = re.compile(r"[*※\"'“”‘’()\[\]【】<>《》、,.。:;/\\|_\-—–·~～?？!！]")
_YEAR_PREFIX = re.compile(r"^((?:19|20)\d{2})年?度?")
UNITS = {"亿元": YI, "万元": WAN, "元": Decimal("0.0001")}


def canonical(text: object) -> tuple[str, Decimal | None]:
    """Header text reduced for matching, and the unit named in it (亿元/万元), if any."""
    t = compact(text).replace("（", "(").replace("）", ")")
    unit = None
    match = _UNIT_IN_HEADER.search(t)
    if match:
        unit = UNITS[match.group(1) or match.group(2)]
        t = t[: match.start()] + t[match.end() :]
    return _PUNCT.sub("", t), unit


_EXACT = {compact(s): f.key for f in FIELDS for s in f.synonyms}
_WITH_YEAR = {compact(s): f.key for f in FIELDS for s in f.year_synonyms}


@dataclass(frozen=True)
class HeaderMatch:
    field: str | None
    unit: Decimal | None = None
    year: int | None = None


def match_header(text: object) -> HeaderMatch:
    """The field a header names (or None), its unit, and a year written in front of it."""
    key, unit = canonical(text)
    if not key:
        return HeaderMatch(None, unit)
    if key in _EXACT:
        return HeaderMatch(_EXACT[key], unit)
    year_match = _YEAR_PREFIX.match(key)
    if year_match:
        rest = key[year_match.end() :]
        field = _WITH_YEAR.get(rest) or (_EXACT.get(rest) if _EXACT.get(rest) in LISTING_FIELDS else None)
        if field:
            return HeaderMatch(field, unit, int(year_match.group(1)))
    return HeaderMatch(None, unit)


def choices() -> list[tuple[str, str]]:
    """For the mapping selects in the preview."""
    return [("", "（不导入）"), *[(f.key, f.label) for f in FIELDS]]
