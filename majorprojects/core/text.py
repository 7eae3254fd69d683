"""Text normalisation for what people type and what government spreadsheets contain."""

import re
import unicodedata

_SPACES = re.compile(r"[\s\u3000\u00a0]+")


def normalize(value: object) -> str:
    """NFKC (full-width digits/letters to half-width), collapse whitespace, strip."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def compact(value: object) -> str:
    """normalize() and drop every space: for matching header text like '项 目 名 称'."""
    return normalize(value).replace(" ", "")
