"""Helpers shared by every Excel export: safe cell values (no formula injection)."""

from datetime import date, datetime
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> str:
    """A string that Excel will never read as a formula: a leading = + - @ gets a quote."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def cell_value(value: object):
    """Numbers stay numbers (amounts exported as numbers), dates stay dates, text is made safe."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return float(value)  # xlsx stores IEEE doubles; 万元 with two decimals is exact enough
    if isinstance(value, int | float | date | datetime):
        return value
    return safe_text(value)
