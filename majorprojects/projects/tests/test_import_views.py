"""The upload page, the preview with its column mapping, confirm and discard, and the template."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from majorprojects.projects import exports
from majorprojects.projects.models import ImportBatch, Project

from .test_import_reader import workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# "投资额" is not a header the reader knows: the person maps it to 总投资 in the preview.
ROWS = [
    ["2026年新增项目"],
    ["单位：万元"],
    ["序号", "项目名称", "项目单位", "所在区域", "项目类别", "投资额"],
    [1, "临川数据中心", "临川建设投资有限公司", "临川区", "产业项目", "2.5亿"],
    [2, "临川冷链物流园", "临川冷链有限公司", "临川区", "产业项目", 8000],
]


def upload(client, content, name="台账.xlsx", year=2026, **extra):
    data = {"file": SimpleUploadedFile(name, content, content_type=XLSX), "year": year, **extra}
    return client.post("/projects/import/", data)


def test_upload_page_explains_and_links_the_template(client, users):
    client.force_login(users["linchuan"])
    html = client.get("/projects/import/").content.decode()
    assert "单位：亿元" in html and "合计、小计、总计行" in html
    assert "/projects/import/template.xlsx" in html
    assert "项目业主" in html  # the synonyms table


@pytest.mark.parametrize("account", ["leader", "auditor"])
def test_readers_cannot_import(client, users, account):
    client.force_login(users[account])
    assert client.get("/projects/import/").status_code == 403
    assert client.get("/projects/import/template.xlsx").status_code == 403


def test_upload_preview_fix_mapping_confirm(client, users, projects):
    client.force_login(users["linchuan"])
    response = upload(client, workbook(ROWS))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == f"/projects/import/{batch.pk}/"
    assert batch.status == "preview" and batch.uploaded_by == users["linchuan"]
    assert batch.file.name.startswith("imports/") and batch.original_name == "台账.xlsx"
    html = client.get(response.url).content.decode()
    assert "第 4 行：缺少「总投资」" in html
    assert "确认导入" not in html and "放弃" in html
    assert "以下列不导入：「投资额」" in html

    response = client.post(
        response.url,
        {
            "action": "remap",
            "year": 2026,
            "sheet": "Sheet1",
            "col_B": "name",
            "col_C": "owner_unit",
            "col_D": "region",
            "col_E": "sector",
            "col_F": "total_investment",
            "col_A": "index",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # the HTMX partial
    batch.refresh_from_db()
    assert batch.mapping["columns"]["F"] == "total_investment"
    assert batch.result["ok"] and batch.result["counts"]["create"] == 2
    html = response.content.decode()
    assert "确认导入" in html and "将新建单位：临川冷链有限公司（临川区）" in html
    assert Project.objects.count() == 3  # nothing written before confirming

    response = client.post(f"/projects/import/{batch.pk}/", {"action": "confirm"}, follow=True)
    assert "已导入：新建 2 个，更新 0 个" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "done" and batch.result["applied"] == {"create": 2, "update": 0, "unchanged": 0}
    assert Project.objects.get(name="临川数据中心").total_investment == Decimal("25000.00")
    html = client.get(f"/projects/import/{batch.pk}/").content.decode()
    assert "已导入：新建 2 个" in html and "确认导入" not in html
    # a finished batch cannot be confirmed twice
    response = client.post(f"/projects/import/{batch.pk}/", {"action": "confirm"}, follow=True)
    assert "该批次已导入，不能再修改" in response.content.decode()
    assert Project.objects.count() == 5


def test_plain_post_remap_also_works(client, users, projects):
    client.force_login(users["admin"])
    upload(client, workbook(ROWS))
    batch = ImportBatch.objects.get()
    response = client.post(
        f"/projects/import/{batch.pk}/",
        {"action": "remap", "year": 2026, "sheet": "Sheet1", "col_F": "total_investment"},
    )
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert ImportBatch.objects.get().result["ok"]


def test_confirm_with_errors_writes_nothing(client, users, projects):
    client.force_login(users["linchuan"])
    rows = [
        ["项目名称", "项目单位", "所在区域", "项目类别", "总投资"],
        ["越界项目", "某公司", "青山县", "产业项目", 100],
    ]
    upload(client, workbook(rows))
    batch = ImportBatch.objects.get()
    assert batch.result["errors"] == ["第 2 行「所在区域」：“青山县”不在您的管辖范围内"]
    response = client.post(f"/projects/import/{batch.pk}/", {"action": "confirm"})
    assert "未写入任何数据" in response.content.decode()
    assert ImportBatch.objects.get().status == "preview"
    assert not Project.objects.filter(name="越界项目").exists()


def test_discard(client, users, projects):
    client.force_login(users["admin"])
    upload(client, workbook(ROWS))
    batch = ImportBatch.objects.get()
    response = client.post(f"/projects/import/{batch.pk}/", {"action": "discard"}, follow=True)
    assert "已放弃导入" in response.content.decode()
    assert ImportBatch.objects.get().status == "discarded"


def test_preview_belongs_to_its_uploader(client, users, projects):
    client.force_login(users["admin"])
    upload(client, workbook(ROWS))
    batch = ImportBatch.objects.get()
    client.force_login(users["linchuan"])
    assert client.get(f"/projects/import/{batch.pk}/").status_code == 404
    assert client.post(f"/projects/import/{batch.pk}/", {"action": "confirm"}).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("台账.csv", b"a,b\n1,2\n", "仅支持 Excel（.xlsx）文件"),
        ("台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "暂不支持 .xls"),
        ("台账.xlsx", b"PK\x03\x04 broken", "文件已损坏"),
        ("台账.xlsx", b"not a zip", "不是有效的 Excel"),
    ],
)
def test_unreadable_files_get_a_message(client, users, name, content, message):
    client.force_login(users["admin"])
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_oversize_file_gets_a_message(client, users, settings):
    settings.IMPORT_MAX_BYTES = 2048
    client.force_login(users["admin"])
    response = upload(client, workbook(ROWS))
    assert "文件超过 2 KB 的上限" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_template_download_has_the_export_headers_and_notes(client, users, city):
    client.force_login(users["linchuan"])
    response = client.get("/projects/import/template.xlsx", {"year": 2027})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["项目清单", "填写说明"]
    rows = list(book["项目清单"].iter_rows(values_only=True))
    assert list(rows[2]) == exports.headers(2027)
    assert rows[3][0] == "示例" and rows[3][3] == "临川区"
    notes = [r[0] for r in book["填写说明"].iter_rows(values_only=True)]
    assert "总投资（万元）" in notes
    # Importing the untouched template does nothing: the example row is skipped.
    upload(client, response.content, name="模板.xlsx", year=2027)
    assert ImportBatch.objects.get().result["errors"] == ["表中没有可导入的项目行。"]


def test_choosing_another_sheet_in_the_preview(client, users, projects):
    client.force_login(users["admin"])
    content = workbook(ROWS, title="新增", more_sheets=[("封面", [["云江市重点项目"], ["2026年"]])])
    upload(client, content)
    batch = ImportBatch.objects.get()
    assert batch.result["sheets"] == ["新增", "封面"]
    response = client.post(
        f"/projects/import/{batch.pk}/", {"action": "remap", "year": 2026, "sheet": "封面"}
    )
    html = response.content.decode()
    assert "工作表“封面”的前 20 行中没有找到表头" in html and "确认导入" not in html
    response = client.post(
        f"/projects/import/{batch.pk}/", {"action": "remap", "year": 2026, "sheet": "新增"}
    )
    assert ImportBatch.objects.get().mapping == {"sheet": "新增", "columns": {}}
    assert "第 4 行：缺少「总投资」" in response.content.decode()
