"""One answer per record a phone sends: the client id (a UUID made on the phone) keys table field_submission.

`submit` runs a record inside a savepoint; what it created, or the Chinese refusal when the domain or the database
refused it (scope, conflict, validation), is stored under the client id in the same transaction. A second request
with that id does not run the record again: it gets the first answer (`replayed`). A refused record writes nothing
but its answer, so the phone can show the reason, let the person fix it and send it again under a new id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geo.access.principal import Forbidden, NotAuthenticated
from geo.errors import Conflict, InvalidInput, NotFound, RiskmapError

KINDS = ("inspection", "hazard", "encroachment", "progress", "stop")
"""Record kinds the field app sends (result at a stop, new hazard, new 占压点, 整改进展, 已到达/已完成)."""

STATUS: dict[type[RiskmapError], int] = {NotAuthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
                                         InvalidInput: 422}

MSG = {
    "client_id": "字段 client_id：应为手机生成的 UUID，得到 {value!r}",
    "kind": "未知的现场记录类型：{kind!r}",
    "scope": "超出辖区：只能在本人所辖乡镇范围内新增或修改记录，位置须落在辖区内"
             "（巡查员只能为本组巡查站点的企业记录检查、隐患，或在辖区内登记新发现的占压点）",
    "grant": "当前账号无权执行此操作",
    "constraint": "与现有数据冲突（编码重复或关联记录不存在），未保存",
}


@dataclass(frozen=True)
class Created:
    """What a record made: the object's kind, id and register code (if it has one), and extra answer fields."""

    object_kind: str
    object_id: int
    object_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The server's answer to one client id: HTTP status, and either the object created or the refusal."""

    client_id: str
    kind: str
    status: int
    object_kind: str | None
    object_id: int | None
    object_code: str | None
    result: dict[str, Any]
    refusal_code: str | None
    refusal: str | None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status < 300

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"client_id": self.client_id, "kind": self.kind, "status": self.status,
                               "replayed": self.replayed}
        if self.ok:
            out.update({"object_kind": self.object_kind, "object_id": self.object_id,
                        "object_code": self.object_code, **self.result})
        else:
            out.update({"code": self.refusal_code, "message": self.refusal})
        return out


def checked_client_id(value: str) -> str:
    """The client id in canonical UUID form; InvalidInput naming the field otherwise."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput(MSG["client_id"].format(value=str(value)[:60])) from None


def refusal_of(exc: Exception) -> tuple[int, str, str]:
    """(HTTP status, stable code, Chinese message) of a refused record, as api.errors answers the same errors."""
    if isinstance(exc, RiskmapError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        return status, exc.code, exc.message
    pgcode = str(getattr(getattr(exc, "orig", None), "pgcode", "") or "")
    if pgcode == "42501":
        rls = "row-level security" in str(getattr(exc, "orig", ""))
        return 403, "forbidden", MSG["scope"] if rls else MSG["grant"]
    if pgcode.startswith("23"):
        return 409, "constraint_violation", MSG["constraint"]
    raise exc


def _stored(conn: Connection, client_id: str) -> Answer | None:
    row = conn.execute(text(
        "SELECT client_id::text, kind, status, object_kind, object_id, object_code, result, refusal_code, refusal "
        "FROM field_submission WHERE client_id = CAST(:c AS uuid)"), {"c": client_id}).mappings().first()
    if row is None:
        return None
    return Answer(**{**row, "result": row["result"] or {}}, replayed=True)


def submit(conn: Connection, *, client_id: str, login: str, kind: str, record: Callable[[], Created]) -> Answer:
    """Run `record` once per client id and keep its answer; a repeated client id gets the stored answer.

    `conn` is the request's connection (its role and townships bound, inside a transaction the caller commits).
    Another user's id (a UUID collision; their rows are hidden by row-level security) fails on the primary key
    and the whole transaction is refused (409).
    """
    if kind not in KINDS:
        raise InvalidInput(MSG["kind"].format(kind=kind))
    client_id = checked_client_id(client_id)
    # two copies of one record arriving at once: the second waits here, then finds the first's answer
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:c, 15))"), {"c": client_id})
    before = _stored(conn, client_id)
    if before is not None:
        return before
    savepoint = conn.begin_nested()
    try:
        made = record()
        savepoint.commit()
    except (RiskmapError, DBAPIError) as exc:
        savepoint.rollback()
        status, code, message = refusal_of(exc)
        answer = Answer(client_id, kind, status, None, None, None, {}, code, message)
    else:
        answer = Answer(client_id, kind, 201, made.object_kind, made.object_id, made.object_code, made.extra,
                        None, None)
    conn.execute(text(
        "INSERT INTO field_submission (client_id, login, kind, status, object_kind, object_id, object_code, result, "
        "refusal_code, refusal) VALUES (CAST(:c AS uuid), :login, :kind, :status, :ok, :oid, :code, "
        "CAST(:result AS jsonb), :rc, :refusal)"),
        {"c": client_id, "login": login, "kind": kind, "status": answer.status, "ok": answer.object_kind,
         "oid": answer.object_id, "code": answer.object_code,
         "result": json.dumps(answer.result, ensure_ascii=False, default=str), "rc": answer.refusal_code,
         "refusal": answer.refusal})
    return answer
