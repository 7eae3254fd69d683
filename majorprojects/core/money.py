"""Money is Decimal in 万元. Parsing and display helpers; never float."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .text import normalize

WAN = Decimal("1")
YI = Decimal("10000")  # 1 亿元 = 10000 万元
TWO_PLACES = Decimal("0.01")

_AMOUNT = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(亿元|亿|万元|万|元)?$")


class AmountError(ValueError):
    """A value that cannot be read as an amount; the message is Chinese and user-facing."""


def parse_amount(value: object, default_unit: Decimal = WAN) -> Decimal | None:
    """Read an amount as 万元 from a cell or a form value.

    Accepts numbers, '1,234.5', full-width digits, '3.5亿', '3.5亿元', '1200万元', '5000000元'.
    Blank gives None. Anything else raises AmountError.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise AmountError("不是金额")
    if isinstance(value, int | Decimal):
        amount = Decimal(value) * default_unit
    elif isinstance(value, float):
        amount = Decimal(repr(value)) * default_unit
    else:
        text = normalize(value).replace(",", "").replace("，", "").replace(" ", "")
        if text in {"", "-", "—", "/", "无"}:
            return None
        match = _AMOUNT.match(text)
        if not match:
            raise AmountError(f"无法识别的金额“{normalize(value)}”")
        number = Decimal(match.group(1))
        unit = match.group(2)
        if unit in ("亿元", "亿"):
            amount = number * YI
        elif unit in ("万元", "万"):
            amount = number
        elif unit == "元":
            amount = number / Decimal(10000)
        else:
            amount = number * default_unit
    try:
        amount = amount.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise AmountError("金额过大")
    if amount < 0:
        raise AmountError("金额不能为负数")
    if amount >= Decimal("1e12"):
        raise AmountError("金额过大")
    return amount


def to_yi(amount: Decimal | None) -> Decimal:
    """万元 → 亿元, two decimals, for summaries."""
    return ((amount or Decimal(0)) / YI).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
