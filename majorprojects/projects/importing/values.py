"""Reading one cell of a ledger. Each parser returns a Python value (None for blank) or raises
CellError with a Chinese message; the plan adds the row number and the column header."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from openpyxl.utils.datetime import from_excel

from majorprojects.core.money import WAN, AmountError, parse_amount
from majorprojects.core.text import compact, normalize
from majorprojects.core.xlsx import FORMULA_PREFIXES

from ..models import PROJECT_CODE, ApprovalRegime, KeyLevel, ListKind, Stage


class CellError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def text(value: object) -> str:
    """Stored text: surrounding spaces trimmed, line breaks kept, and the quote our own export puts
    before = + - @ (formula guard, core.xlsx.safe_text) taken off again."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    t = str(value).replace("\r\n", "\n").strip()
    if t.startswith("'") and t[1:].startswith(FORMULA_PREFIXES):
        t = t[1:]
    return t


def amount(value: object, unit: Decimal = WAN) -> Decimal | None:
    try:
        return parse_amount(value, default_unit=unit)
    except AmountError as exc:
        raise CellError(str(exc))


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_SHORT_END = re.compile(r"^((?:19|20)\d{2})\D{1,3}(\d{2})年?$")


def year_range(value: object) -> tuple[int, int] | None:
    """'2024-2026', '2024—2026年', '2024~2026', '2024年-2026年', '2024.03-2026.12', '2025'."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.year, value.year
    if isinstance(value, int | float) and not isinstance(value, bool) and 1990 <= value <= 2100:
        return int(value), int(value)
    t = compact(value)
    short = _SHORT_END.match(t)
    years = [int(y) for y in _YEAR.findall(t)]
    if short:
        years = [int(short.group(1)), int(short.group(1)[:2] + short.group(2))]
    if not years or len(years) > 2:
        raise CellError(f"无法识别的年限“{normalize(value)}”，应写作“2024-2026”")
    start, end = years[0], years[-1]
    if end < start:
        raise CellError(f"截止年份早于起始年份“{normalize(value)}”")
    if not 1990 <= start <= 2100 or not 1990 <= end <= 2100:
        raise CellError(f"年份超出范围“{normalize(value)}”")
    return start, end


def year(value: object) -> int | None:
    years = year_range(value)
    return None if years is None else years[0]


_DATE = re.compile(
    r"^((?:19|20)\d{2})\s*[年./\-]\s*(\d{1,2})\s*(?:[月./\-]\s*(?:(\d{1,2})\s*日?)?)?(?:上旬|中旬|下旬|底|初|末|份)?$"
)


def date(value: object) -> dt.date | None:
    """Excel dates, and text like '2025-03-15', '2025年3月', '2025.3' (month only: the 1st)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1990 < value < 2101 and not float(value).is_integer():
            return date(repr(float(value)))  # a number typed as 2025.3
        if 20000 <= value <= 80000:  # an Excel serial date in a cell without a date format
            return from_excel(value).date()
        raise CellError(f"无法识别的日期“{value}”")
    t = compact(value).replace("00:00:00", "")
    match = _DATE.match(t)
    if not match:
        raise CellError(f"无法识别的日期“{normalize(value)}”，应写作“2025-03-15”或“2025年3月”")
    y, m, d = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise CellError(f"无效的日期“{normalize(value)}”")


_TRUE = {"是", "√", "✓", "✔", "y", "yes", "true", "1", "有", "对"}
_FALSE = {"否", "×", "✗", "x", "n", "no", "false", "0", "无", "不是"}


def boolean(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    t = compact(value).lower()
    if not t:
        return None
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise CellError(f"应填“是”或“否”，而不是“{normalize(value)}”")


def _choice(value: object, table: dict[str, str], what: str) -> str | None:
    t = compact(value)
    if not t:
        return None
    if t in table:
        return table[t]
    raise CellError(f"无法识别的{what}“{normalize(value)}”")


_STAGES = {
    **{label: value for value, label in Stage.choices},
    "谋划": Stage.CONCEIVED,
    "谋划阶段": Stage.CONCEIVED,
    "储备": Stage.RESERVED,
    "储备阶段": Stage.RESERVED,
    "前期": Stage.PREPARING,
    "前期工作": Stage.PREPARING,
    "前期阶段": Stage.PREPARING,
    "签约": Stage.SIGNED,
    "已签约": Stage.SIGNED,
    "在建": Stage.CONSTRUCTION,
    "开工": Stage.CONSTRUCTION,
    "已开工": Stage.CONSTRUCTION,
    "施工": Stage.CONSTRUCTION,
    "建设中": Stage.CONSTRUCTION,
    "竣工": Stage.COMPLETED,
    "已竣工": Stage.COMPLETED,
    "完工": Stage.COMPLETED,
    "建成": Stage.COMPLETED,
    "投产": Stage.OPERATING,
    "已投产": Stage.OPERATING,
    "投产达效": Stage.OPERATING,
    "达效": Stage.OPERATING,
    "运营": Stage.OPERATING,
}
_LISTS = {
    **{label: value for value, label in ListKind.choices},
    "储备": ListKind.RESERVE,
    "储备库": ListKind.RESERVE,
    "储备类": ListKind.RESERVE,
    "建设": ListKind.CONSTRUCTION,
    "年度建设": ListKind.CONSTRUCTION,
    "建设项目": ListKind.CONSTRUCTION,
    "建设库": ListKind.CONSTRUCTION,
    "年度建设库": ListKind.CONSTRUCTION,
    "建设类": ListKind.CONSTRUCTION,
}
_KEYS = {
    **{label: value for value, label in KeyLevel.choices},
    "省重点": KeyLevel.PROVINCE,
    "省级重点": KeyLevel.PROVINCE,
    "省重点项目": KeyLevel.PROVINCE,
    "省级": KeyLevel.PROVINCE,
    "市重点": KeyLevel.CITY,
    "市级重点": KeyLevel.CITY,
    "市重点项目": KeyLevel.CITY,
    "市级": KeyLevel.CITY,
    "县重点": KeyLevel.COUNTY,
    "县级重点": KeyLevel.COUNTY,
    "县重点项目": KeyLevel.COUNTY,
    "县级": KeyLevel.COUNTY,
    "县市区重点": KeyLevel.COUNTY,
    "非重点": KeyLevel.NONE,
    "一般": KeyLevel.NONE,
    "一般项目": KeyLevel.NONE,
    "否": KeyLevel.NONE,
    "无": KeyLevel.NONE,
}
_REGIMES = {
    **{label: value for value, label in ApprovalRegime.choices},
    "审批": ApprovalRegime.APPROVAL,
    "审批制": ApprovalRegime.APPROVAL,
    "核准": ApprovalRegime.VERIFICATION,
    "核准制": ApprovalRegime.VERIFICATION,
    "备案": ApprovalRegime.FILING,
    "备案制": ApprovalRegime.FILING,
}
_NEW_START = {
    "新开工": True,
    "新建": True,
    "新开": True,
    "是": True,
    "√": True,
    "续建": False,
    "续": False,
    "否": False,
    "在建": False,
}


def stage(value: object) -> str | None:
    return _choice(value, _STAGES, "项目阶段")


def list_kind(value: object) -> str | None:
    return _choice(value, _LISTS, "库别")


def key_level(value: object) -> str | None:
    t = compact(value)
    if not t:
        return None
    return _choice(t.removesuffix("项目") if t not in _KEYS else t, _KEYS, "重点级别")


def approval_regime(value: object) -> str | None:
    return _choice(value, _REGIMES, "审批类型")


def new_start(value: object) -> bool | None:
    t = compact(value)
    if not t:
        return None
    if t in _NEW_START:
        return _NEW_START[t]
    if t.startswith("新开工") or t.startswith("新建"):
        return True
    if t.startswith("续建"):
        return False
    raise CellError(f"应填“新开工”或“续建”，而不是“{normalize(value)}”")


def project_code(value: object) -> str | None:
    t = compact(value).replace("—", "-").replace("–", "-").replace("－", "-")
    if not t:
        return None
    if not PROJECT_CODE.match(t):
        raise CellError(f"项目代码“{normalize(value)}”格式不正确，应为 YYYY-RRRRRR-DD-TT-NNNNNN")
    return t


def tags(value: object) -> list[str] | None:
    t = text(value)
    if not t:
        return None
    return sorted({p.strip()[:30] for p in re.split(r"[、,，;；/\s]+", t) if p.strip()})
