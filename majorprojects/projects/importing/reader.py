"""Open an uploaded ledger safely, find its header (one or two rows, merged cells) and tell data
rows from the title, unit, category, subtotal, note and blank rows around them.

openpyxl reads in read-only mode, where merged ranges are not reported: a merged cell shows its
value in the top-left cell and nothing in the others. The header logic relies only on that."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
from django.conf import settings
from openpyxl.utils import get_column_letter

from majorprojects.core.money import WAN
from majorprojects.core.text import compact, normalize

from .fields import END_WORDS, START_WORDS, TOTAL_WORDS, UNITS, canonical, match_header

MAX_HEADER_SCAN = 20
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_CELLS = 3_000_000  # 50,000 rows of a 60-column ledger
# A genuine .xlsx compresses XML about 5–20×; far more than that is a zip bomb.
MAX_EXPANSION = 50

XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNIT_ROW = re.compile(r"单位[:：]\s*(亿元|万元|元)")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_CATEGORY = re.compile(
    r"^(?:[一二三四五六七八九十百]+\s*[、.．,，]|[（(]\s*[一二三四五六七八九十百]+\s*[)）]|"
    r"第[一二三四五六七八九十百]+[类部批项篇]|[一二三四五六七八九十百]+$)"
)
_SUBTOTAL = re.compile(r"^\D{0,15}?(合计|小计|总计|共计)(\(.*\))?:?$")
_NOTE = re.compile(r"^(注|备注|说明|填表|制表|审核|联系人|填报|领导签字|单位负责人)\s*[:：]?")
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_EXAMPLE = {"示例", "例", "样例", "填写示例"}


class ImportFileError(Exception):
    """The file cannot be read at all; the message is Chinese and shown to the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Column:
    index: int
    letter: str
    header: str
    field: str | None
    detected: str | None
    unit: Decimal | None = None


@dataclass
class Record:
    """One data row: its Excel row number, its cells by field, and defaults from category rows."""

    row: int
    cells: dict[str, tuple[object, Column]]
    category: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    name: str
    sheet_names: list[str]
    title: str
    unit: Decimal
    header_row: int
    header_rows: int
    header_year: int | None
    title_year: int | None
    columns: list[Column]
    records: list[Record]
    skipped: int
    problems: list[str]
    mapped: dict[str, Column]

    @property
    def unit_label(self) -> str:
        return "亿元" if self.unit != WAN else "万元"


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB" if size >= 1024 * 1024 else f"{size / 1024:g} KB"


def check_upload(name: str, content: bytes) -> None:
    """Size, extension and signature, before any parser sees the bytes."""
    limit = settings.IMPORT_MAX_BYTES
    if not content:
        raise ImportFileError("文件为空。")
    if len(content) > limit:
        raise ImportFileError(f"文件超过 {size_text(limit)} 的上限，请拆分后导入。")
    if content.startswith(XLS_MAGIC) or name.lower().endswith(".xls"):
        raise ImportFileError("暂不支持 .xls（Excel 97-2003）格式，请在 Excel 中“另存为”.xlsx 后再上传。")
    if not name.lower().endswith(".xlsx"):
        raise ImportFileError("仅支持 Excel（.xlsx）文件。")
    if not content.startswith(b"PK\x03\x04"):
        raise ImportFileError("文件内容不是有效的 Excel（.xlsx）文件，可能已损坏或只是改了扩展名。")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError("文件已损坏，无法解压，请重新保存为 .xlsx 后上传。")
    if "xl/workbook.xml" not in names:
        raise ImportFileError("文件内容不是有效的 Excel（.xlsx）文件，可能已损坏或只是改了扩展名。")
    if expanded > MAX_EXPANSION * max(len(content), 1024 * 1024):
        raise ImportFileError("文件解压后异常巨大，已拒绝读取。")


def load_rows(content: bytes, sheet: str | None) -> tuple[str, list[str], list[list]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # any parser failure on untrusted bytes (corrupt zip, hostile XML, …)
        raise ImportFileError(
            "文件已损坏或包含不安全的内容，无法读取。请在 Excel 中重新保存为 .xlsx 后上传。"
        )
    try:
        names = [ws.title for ws in book.worksheets]
        visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
        if sheet:
            if sheet not in names:
                raise ImportFileError(f"文件中没有名为“{sheet}”的工作表。")
            ws = book[sheet]
        elif visible:
            ws = visible[0]
        else:
            raise ImportFileError("文件中没有可见的工作表。")
        rows, cells = [], 0
        for values in ws.iter_rows(values_only=True):
            row = list(values[:MAX_COLUMNS])
            while row and row[-1] is None:
                row.pop()
            rows.append(row)
            cells += len(row)
            if len(rows) > MAX_ROWS + MAX_HEADER_SCAN or cells > MAX_CELLS:
                raise ImportFileError(f"工作表超过 {MAX_ROWS} 行或内容过多，请拆分后分批导入。")
        return ws.title, names, rows
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(
            "文件已损坏或包含不安全的内容，无法读取。请在 Excel 中重新保存为 .xlsx 后上传。"
        )
    finally:
        book.close()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(row: list, index: int):
    return row[index] if index < len(row) else None


def _find_header(rows: list[list]) -> int | None:
    for i, row in enumerate(rows[:MAX_HEADER_SCAN]):
        texts = [v for v in row if isinstance(v, str) and v.strip()]
        if len(texts) >= 2 and any(match_header(v).field == "name" for v in texts):
            return i
    return None


def is_category(text: str) -> bool:
    return bool(_CATEGORY.match(compact(text)))


def _is_subtotal(text: str) -> bool:
    t = compact(text)
    return bool(_SUBTOTAL.match(t)) or t.startswith("其中")


def _is_sub_header(top: list, sub: list, name_index: int) -> bool:
    """The row under the header continues it: the name cell is merged from above (empty), the row
    has text, and that text sits under merged header cells or is itself header-like."""
    if not _blank(_cell(sub, name_index)):
        return False
    filled = [(i, v) for i, v in enumerate(sub) if not _blank(v)]
    if not filled or any(not isinstance(v, str) for _, v in filled):
        return False
    for _, v in filled:
        key = canonical(v)[0]
        if is_category(v) or (_is_subtotal(v) and key not in TOTAL_WORDS and not key.startswith("其中")):
            return False
    for i, v in filled:
        key = canonical(v)[0]
        if (
            _blank(_cell(top, i))
            or key in TOTAL_WORDS | START_WORDS | END_WORDS
            or match_header(v).field
            or key.startswith("其中")
        ):
            return True
    return False


def _display(value) -> str:
    """Header text as the person sees it in Excel (line breaks and runs of spaces collapsed)."""
    return _SPACES.sub(" ", "" if value is None else str(value)).strip()


def _columns(top: list, sub: list | None, width: int) -> list[Column]:
    columns = []
    last_top = ""
    for i in range(width):
        t = _display(_cell(top, i))
        s = _display(_cell(sub, i)) if sub is not None else ""
        if t:
            last_top = t
        elif s:
            t = last_top  # a horizontally merged top cell spans this column
        if not t and not s:
            continue
        header, found = _combine(t, s)
        columns.append(
            Column(
                index=i,
                letter=get_column_letter(i + 1),
                header=header,
                field=found.field,
                detected=found.field,
                unit=found.unit,
            )
        )
    return columns


def _combine(top: str, sub: str):
    top_match = match_header(top)
    if not sub:
        return top, top_match
    key = canonical(sub)[0]
    if not top:
        return sub, match_header(sub)
    if key in TOTAL_WORDS:
        return top, top_match
    if top_match.field == "years" and key in START_WORDS | END_WORDS:
        field = "start_year" if key in START_WORDS else "end_year"
        return f"{top}/{sub}", type(top_match)(field)
    sub_match = match_header(sub)
    if sub_match.field:
        unit = sub_match.unit or top_match.unit
        return sub, type(sub_match)(sub_match.field, unit, sub_match.year)
    joined = match_header(top + sub)
    if joined.field:
        return f"{top}{sub}", joined
    return f"{top}/{sub}", type(top_match)(None)


def _unit_and_title(rows: list[list], header_index: int) -> tuple[Decimal, str, list[str]]:
    unit, title = WAN, ""
    texts = []
    for row in rows[:header_index]:
        for value in row:
            if isinstance(value, str) and value.strip():
                texts.append(normalize(value))
    for text in texts:
        match = _UNIT_ROW.search(compact(text))
        if match:
            unit = UNITS[match.group(1)]
            break
    for text in texts[:3]:
        if not _UNIT_ROW.search(compact(text)) and not match_header(text).field:
            title = text
            break
    return unit, title, texts


def read_sheet(
    content: bytes, *, name: str = "import.xlsx", sheet: str | None = None, mapping: dict | None = None
) -> Sheet:
    """Everything the plan needs from a file. `mapping` ({column letter: field key or ""}) overrides
    what the headers say; ImportFileError when the file cannot be read or has no header."""
    check_upload(name, content)
    sheet_name, sheet_names, rows = load_rows(content, sheet)
    header_index = _find_header(rows)
    if header_index is None:
        raise ImportFileError(
            f"工作表“{sheet_name}”的前 {MAX_HEADER_SCAN} 行中没有找到表头：表头须有“项目名称”列。"
            "如数据在其他工作表，请选择工作表后重试。"
        )
    top = rows[header_index]
    width = max((len(r) for r in rows), default=0)
    name_index = next(i for i, v in enumerate(top) if match_header(v).field == "name")
    sub = rows[header_index + 1] if header_index + 1 < len(rows) else None
    header_rows = 2 if sub is not None and _is_sub_header(top, sub, name_index) else 1
    columns = _columns(top, sub if header_rows == 2 else None, width)
    problems: list[str] = []
    _dedupe(columns)
    if mapping:
        for column in columns:
            if column.letter in mapping:
                column.field = mapping[column.letter] or None
    mapped: dict[str, Column] = {}
    for column in columns:
        if not column.field:
            continue
        if column.field in mapped:
            other = mapped[column.field]
            problems.append(
                f"「{other.header}」（{other.letter}列）和「{column.header}」（{column.letter}列）"
                f"对应同一字段，请只保留一列。"
            )
            continue
        mapped[column.field] = column
    if "name" not in mapped:
        problems.append("没有对应“项目名称”的列，请在列对应关系中指定。")
    unit, title, texts = _unit_and_title(rows, header_index)
    header_years = {match_header(c.header).year for c in columns if c.field} - {None}
    title_years = {int(y) for t in texts[:3] for y in _TITLE_YEAR.findall(compact(t))}
    first_data = header_index + header_rows
    records, skipped = _records(rows[first_data:], first_data + 1, mapped)
    return Sheet(
        name=sheet_name,
        sheet_names=sheet_names,
        title=title,
        unit=unit,
        header_row=header_index + 1,
        header_rows=header_rows,
        header_year=min(header_years) if len(header_years) == 1 else None,
        title_year=min(title_years) if len(title_years) == 1 else None,
        columns=columns,
        records=records,
        skipped=skipped,
        problems=problems,
        mapped=mapped,
    )


def _dedupe(columns: list[Column]) -> None:
    """When two columns look like the same field ("建设单位" and "项目业主"), the first one wins;
    the person can switch it in the preview."""
    seen = set()
    for column in columns:
        if column.field in seen:
            column.field = column.detected = None
        elif column.field:
            seen.add(column.field)


def _is_column_numbers(values: list) -> bool:
    """A row of column numbers under the header: 1, 2, 3 … (common in government forms)."""
    numbers = []
    for v in values:
        if _blank(v):
            continue
        text = normalize(v)
        if not text.isdigit():
            return False
        numbers.append(int(text))
    return len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _records(rows: list[list], first_row: int, mapped: dict[str, Column]) -> tuple[list[Record], int]:
    records: list[Record] = []
    skipped = 0
    category: list[str] = []
    name_col = mapped.get("name")
    index_col = mapped.get("index")
    for offset, values in enumerate(rows):
        row_no = first_row + offset
        filled = [v for v in values if not _blank(v)]
        if not filled:
            skipped += 1
            continue
        name = _cell(values, name_col.index) if name_col else None
        index = _cell(values, index_col.index) if index_col else None
        lead = normalize(index if not _blank(index) else (name if not _blank(name) else filled[0]))
        name_text = normalize(name)
        if compact(index) in _EXAMPLE or _is_column_numbers(values):
            skipped += 1
            continue
        if any(_is_subtotal(t) for t in (name_text or lead, normalize(index)) if t):
            skipped += 1
            continue
        if (isinstance(index, str) and is_category(index)) or (name_text and is_category(name_text)):
            label = name_text if (not is_category(name_text) and name_text) else lead
            category = _category_path(category, normalize(index) if not _blank(index) else "", label)
            skipped += 1
            continue
        if not name_text and len(filled) == 1 and isinstance(filled[0], str):
            text = normalize(filled[0])
            if _NOTE.match(compact(text)) or is_category(text):
                if is_category(text):
                    category = _category_path(category, "", text)
                skipped += 1
                continue
        cells = {
            key: (_cell(values, column.index), column)
            for key, column in mapped.items()
            if not _blank(_cell(values, column.index))
        }
        records.append(Record(row=row_no, cells=cells, category=list(category)))
    return records, skipped


def _category_path(current: list[str], index: str, label: str) -> list[str]:
    """Category rows nest: "一、产业项目" starts a group, "（一）制造业" a sub-group within it."""
    marker = compact(index) or compact(label)
    sub = marker.startswith(("(", "（"))
    label = category_label(label)
    if sub and current:
        return [current[0], label]
    return [label]


_COUNT = re.compile(r"[（(][^（()）]*[个项][）)]$")
_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十百]+\s*[、.．,，]?|[（(]\s*[一二三四五六七八九十百]+\s*[)）]|"
    r"第[一二三四五六七八九十百]+[类部批项篇][:：、]?)"
)


def category_label(text: str) -> str:
    """'一、产业项目（45个）' → '产业项目'."""
    t = normalize(text)
    t = _NUMBERING.sub("", t).strip()
    t = _COUNT.sub("", t).strip()
    return t
