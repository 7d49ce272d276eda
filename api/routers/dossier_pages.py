"""Dossier pages (一点一档 / 一企一档): an encroachment point, a hazard, an enterprise; the register actions the
viewer's role may take (each behind a confirmation step, each refused with 409 when the dossier changed since it
was read), monthly progress entries and attachments. Reads and writes go through geo.register.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.pages import page
from api.workbench import (
    FormDep,
    UploadDep,
    can_edit,
    form_day,
    form_int,
    form_text,
    not_found,
    person,
    status_of,
    write,
)
from geo.access import bind
from geo.access.principal import Forbidden, Principal
from geo.attachments import CONTENT_TYPES as ATTACHMENT_TYPES
from geo.attachments import limit_text, store_attachment
from geo.codes import ENCROACHMENT_KINDS, ENCROACHMENT_NATURES, HAZARD_LEVELS, INDUSTRY_CATEGORIES
from geo.db import get_engine
from geo.errors import InvalidInput, NotFound, RiskmapError
from geo.register import change_status, get_lifecycle
from geo.register import dossier as dossiers
from geo.register.browse import COLOURS, MAJOR_GRADES
from geo.register.hazard import list_for_supervision
from geo.risk import read as risk_read
from geo.risk.rules import LEVEL_LABELS
from layers.web import url_path

router = APIRouter(include_in_schema=False)

KINDS = {"encroachments": "encroachment", "hazards": "hazard"}
"""URL segment → register kind."""
ATTACHABLE = {**KINDS, "enterprises": "enterprise"}
"""URL segment → owner_kind of the attachments its dossier shows."""
LEDGER = {"encroachment": ("占压点台账", "/ledgers/encroachments"), "hazard": ("隐患台账", "/ledgers/hazards")}
NOTICES = {"confirmed": "已认定为占压点并建档", "created": "隐患已登记（状态：发现）", "status": "状态已变更",
           "supervised": "已挂牌督办", "progress": "已记录本月整改进展", "attachment": "附件已上传"}
ACTION_VERBS = {"confirmed": "认定", "rectifying": "开始整改（整改中）", "rectified": "整改完成（已整改）",
                "closed": "销号", "supervise": "挂牌督办"}
LABELS = {"kinds": ENCROACHMENT_KINDS, "natures": ENCROACHMENT_NATURES, "levels": HAZARD_LEVELS,
          "categories": INDUSTRY_CATEGORIES, "colours": COLOURS, "colour_labels": LEVEL_LABELS,
          "grades": MAJOR_GRADES}


def _kind(segment: str) -> str:
    if segment not in KINDS:
        raise NotFound("没有这种档案")
    return KINDS[segment]


def _dossier_page(request: Request, principal: Principal, conn: Connection, kind: str, code: str, *,
                  status: int = 200, error: str | None = None, action: str | None = None) -> HTMLResponse:
    """The dossier of one register object, with the confirmation panel of `action` when one was chosen."""
    try:
        item = dossiers.register_dossier(conn, kind, code)
    except NotFound as exc:
        return not_found(request, principal, exc, conn)
    lc = get_lifecycle(kind)
    editor = can_edit(principal)
    actions = list(item["next_statuses"]) if editor else []
    if editor and kind == "hazard" and item["level"] == "major" and item["status"] != "closed":
        actions.append("supervise")
    chosen = action if action in actions else None
    ledger_label, ledger_href = LEDGER[kind]
    done = request.query_params.get("done")
    return page(request, principal, f"wb_dossier_{kind}.html", conn=conn, status=status, nav="ledgers",
                crumbs=[("台账", None), (ledger_label, ledger_href), (code, None)], title=f"{lc.label} {code}",
                item=item, lc=lc, kind=kind, segment=f"{kind}s", actions=actions, action=chosen,
                verbs=ACTION_VERBS, error=error, notice=NOTICES.get(done or ""), labels=LABELS, can_edit=editor,
                map_data={"point": item["geom"], "line": item.get("pipeline_geom"),
                          "township": item.get("township_geom")},
                max_mb=limit_text(), types=ATTACHMENT_TYPES)


def _after_refusal(request: Request, principal: Principal, kind: str, code: str, exc: RiskmapError) -> HTMLResponse:
    """The current state of the dossier with the refusal above it (a stale version: 409 and the fresh state)."""
    with get_engine().connect() as conn:
        bind(conn, principal)
        if isinstance(exc, NotFound):
            return not_found(request, principal, exc, conn)
        return _dossier_page(request, principal, conn, kind, code, status=status_of(exc), error=exc.message)


def _done(segment: str, code: str, what: str) -> RedirectResponse:
    return RedirectResponse(url_path("dossiers", segment, code) + f"?done={what}", status_code=303)


@router.get("/dossiers/{segment}/{code}", response_class=HTMLResponse)
def register_dossier(segment: str, code: str, request: Request, principal: PrincipalDep,
                     conn: ConnDep) -> HTMLResponse:
    """一点一档 of an encroachment point, or a hazard's dossier; ?action=<status|supervise> asks for confirmation."""
    if segment == "enterprises":
        return _enterprise_page(request, principal, conn, code)
    try:
        kind = _kind(segment)
    except NotFound as exc:
        return not_found(request, principal, exc, conn)
    return _dossier_page(request, principal, conn, kind, code, action=request.query_params.get("action"))


@router.post("/dossiers/{segment}/{code}/status", response_class=HTMLResponse)
def move(segment: str, code: str, request: Request, principal: PrincipalDep, form: FormDep) -> Response:
    """One life-cycle move, confirmed on the page, against the version the user read."""
    kind = KINDS.get(segment, "")
    try:
        kind = _kind(segment)
        if not can_edit(principal):
            raise Forbidden("当前账号无权变更台账状态")
        to = form_text(form, "to", 20) or ""
        version = form_int(form, "version")
        if version is None:
            raise InvalidInput("字段 version（版本）缺失，请刷新页面后再操作")
        verified_by = form_text(form, "verified_by", 50)
        note = form_text(form, "note")
        write(principal, lambda c: change_status(c, kind, code, to, by=person(principal), verified_by=verified_by,
                                                 note=note, version=version))
    except RiskmapError as exc:
        if not kind:
            return HTMLResponse("没有这种档案", status_code=404)
        return _after_refusal(request, principal, kind, code, exc)
    return _done(segment, code, "status")


@router.post("/dossiers/hazards/{code}/supervision", response_class=HTMLResponse)
def supervise(code: str, request: Request, principal: PrincipalDep, form: FormDep) -> Response:
    """挂牌督办 of a major hazard, confirmed, against the version read."""
    try:
        if not can_edit(principal):
            raise Forbidden("当前账号无权挂牌督办")
        department = form_text(form, "department", 100) or ""
        deadline = form_day(form, "deadline")
        version = form_int(form, "version")
        write(principal, lambda c: list_for_supervision(c, code, department=department, by=person(principal),
                                                        deadline=deadline, version=version))
    except RiskmapError as exc:
        return _after_refusal(request, principal, "hazard", code, exc)
    return _done("hazards", code, "supervised")


@router.post("/dossiers/{segment}/{code}/progress", response_class=HTMLResponse)
def progress(segment: str, code: str, request: Request, principal: PrincipalDep, form: FormDep) -> Response:
    """A monthly progress entry (月度整改进展)."""
    kind = KINDS.get(segment)
    if kind is None:
        return HTMLResponse("没有这种档案", status_code=404)
    try:
        if not can_edit(principal):
            raise Forbidden("当前账号无权记录整改进展")
        month, entry = form_text(form, "month", 7) or "", form_text(form, "entry") or ""
        write(principal, lambda c: dossiers.add_progress(c, kind, code, month=month, entry=entry,
                                                         by=person(principal)))
    except RiskmapError as exc:
        return _after_refusal(request, principal, kind, code, exc)
    return _done(segment, code, "progress")


@router.post("/dossiers/{segment}/{code}/attachments", response_class=HTMLResponse)
def upload(segment: str, code: str, request: Request, principal: PrincipalDep, file: UploadDep) -> Response:
    """Upload an attachment (JPEG/PNG/WebP/PDF, size-limited, type read from its content) into the attachment table;
    who may is decided by the database (geo/attachments.py), a refusal shown on the dossier."""
    kind = ATTACHABLE.get(segment)
    if kind is None:
        return HTMLResponse("没有这种档案", status_code=404)
    try:
        if file is None:
            raise InvalidInput("字段 file（附件）：请选择要上传的文件")
        if kind == "enterprise":
            enterprise_id = _enterprise_id(code)
            write(principal, lambda c: store_attachment(
                c, owner_kind="enterprise", owner_id=enterprise_id, filename=file.name,
                content_type=file.declared_type or "", data=file.data, by=principal.username))
        else:
            write(principal, lambda c: dossiers.add_attachment(c, kind, code, name=file.name, data=file.data,
                                                               by=principal.username, declared_type=file.declared_type))
    except RiskmapError as exc:
        if kind == "enterprise":
            with get_engine().connect() as conn:
                bind(conn, principal)
                return _enterprise_page(request, principal, conn, code, status=status_of(exc), error=exc.message)
        return _after_refusal(request, principal, kind, code, exc)
    return _done(segment, code, "attachment")


@router.get("/dossiers/{segment}/{code}/attachments/{event_id}")
def download(segment: str, code: str, event_id: int, request: Request, principal: PrincipalDep,
             conn: ConnDep) -> Response:
    """An attachment, always as a download (never shown inline), with the type recognised at upload."""
    try:
        found, path = dossiers.read_attachment(conn, _kind(segment), code, event_id)
    except NotFound as exc:
        return not_found(request, principal, exc, conn)
    return FileResponse(path, media_type=found.content_type, headers={
        "Content-Disposition": f"attachment; filename=attachment-{event_id}; filename*=UTF-8''{quote(found.name)}",
        "X-Content-Type-Options": "nosniff"})


# --- 一企一档 ------------------------------------------------------------------------------------------------------

def _enterprise_id(raw_id: str) -> int:
    if not raw_id.isdigit() or int(raw_id) > 2**31 - 1:
        raise NotFound(f"没有编号为 {raw_id[:20]} 的企业")
    return int(raw_id)


def _enterprise_page(request: Request, principal: Principal, conn: Connection, raw_id: str, *, status: int = 200,
                     error: str | None = None) -> HTMLResponse:
    """An enterprise's dossier: data, inventory with GB 18218 units, hazards, inspections, accidents, risk and its
    history (chart), attachments."""
    try:
        ent = dossiers.enterprise_dossier(conn, _enterprise_id(raw_id))
    except NotFound as exc:
        return not_found(request, principal, exc, conn)
    risk: dict[str, Any] | None
    try:
        risk = risk_read.explain(conn, "enterprise", ent["id"])
    except NotFound:
        risk = None
    hist = risk_read.history(conn, "enterprise", ent["id"])
    chart = {"points": [{"at": h["valid_from"], "level": h["level"], "score": h["score"]} for h in hist],
             "labels": LEVEL_LABELS}
    done = request.query_params.get("done")
    return page(request, principal, "wb_dossier_enterprise.html", conn=conn, nav="ledgers", status=status,
                crumbs=[("台账", None), ("企业台账", "/ledgers/enterprises"), (ent["name"], None)], title=ent["name"],
                ent=ent, risk=risk, history=hist, chart=chart, labels=LABELS, can_edit=can_edit(principal),
                hazard_status=get_lifecycle("hazard").statuses,
                map_data={"point": ent["geom"], "line": None, "township": ent["township_geom"]}, form_error=None,
                form={"enterprise_uscc": ent["uscc"]}, error=error, notice=NOTICES.get(done or "") if not error else None,
                max_mb=limit_text(), types=ATTACHMENT_TYPES)
