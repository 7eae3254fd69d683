"""API shapes for the directory (regions, units, people, work groups, sectors), plus the small
shapes every router shares: references to other records and the error bodies."""

from __future__ import annotations

from ninja import Field, Schema


class Ref(Schema):
    """A reference to another record: its id and its name."""

    id: int
    name: str


class RegionRef(Schema):
    id: int
    code: str
    name: str


class ErrorOut(Schema):
    """401, 403, 404 and 409 bodies: one Chinese sentence."""

    detail: str = Field(examples=["项目不存在或无权访问"])


class FieldError(Schema):
    loc: list[str | int] = Field(
        description="出错位置：body/query/path 加字段名", examples=[["body", "total_investment"]]
    )
    msg: str = Field(examples=["这个字段是必填项。"])
    type: str = Field(description="错误类别（机器可读）", examples=["required"])


class ValidationErrorOut(Schema):
    """422 body: every problem found, each naming its field."""

    detail: list[FieldError]


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


class RegionOut(Schema):
    id: int
    code: str = Field(description="GB/T 2260 区划代码或功能区代码")
    name: str
    short_name: str
    kind: str
    kind_label: str
    parent_id: int | None
    depth: int = Field(description="层级：0 为根（省或独立部署的市、县）")
    path: str = Field(description="从根到本区域的代码路径，如 /430000/431900/431921/")

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()


class SectorOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None = Field(description="为空表示项目类别；不为空表示该类别下的行业")


class UnitOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    kind_label: str
    region_id: int
    credit_code: str
    sector_ids: list[int] = Field(description="行业主管部门主管的类别/行业")
    is_active: bool

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_sector_ids(obj) -> list[int]:
        return [s.pk for s in obj.sectors.all()]


class UnitPage(Schema):
    count: int
    items: list[UnitOut]


class PersonOut(Schema):
    id: int
    name: str
    position: str
    phone: str
    unit_id: int | None
    is_leader: bool
    is_liaison: bool
    portfolio: str


class PersonPage(Schema):
    count: int
    items: list[PersonOut]


class WorkGroupOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    lead_unit_id: int
    member_unit_ids: list[int]
    leader_id: int | None
    duties: str

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_member_unit_ids(obj) -> list[int]:
        return [u.pk for u in obj.member_units.all()]


class ScopeOut(Schema):
    reads_projects: bool = Field(description="是否可查看项目数据（安全审计管理员不可）")
    changes_projects: bool
    manages_listings: bool = Field(description="是否可维护年度清单和专项活动名单")
    configures_organisation: bool
    description: str = Field(examples=["青山县及其下辖区域的项目"])
    visible_projects: int = Field(description="可查看的项目数（含打包项目的子项目）")


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    unit: Ref | None
    region: RegionRef | None
    authenticated_by: str = Field(description="token（接口令牌）或 session（浏览器会话）")
    scope: ScopeOut
