"""The ledgers of the workbench (台账): encroachments, hazards, enterprises and major hazard sources as filtered,
sorted, paged pages, each filter exportable to xlsx; the encroachment check's candidates with 认定; the form
that records a new hazard. Thin: the lists come from geo.register.browse, writes from the register itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.pages import page
from api.workbench import (
    SCOPE_REFUSAL,
    FormDep,
    can_edit,
    context_for,
    form_day,
    form_text,
    ledger_filter,
    person,
    status_of,
    write,
)
from geo.access.principal import Forbidden, Principal
from geo.codes import ENCROACHMENT_KINDS, ENCROACHMENT_NATURES, HAZARD_LEVELS, INDUSTRY_CATEGORIES
from geo.encroachment import check_encroachments, list_candidates
from geo.encroachment.register import confirm_candidate
from geo.encroachment.zones import FEATURE_TYPES, load_zones
from geo.errors import InvalidInput, NotFound, RiskmapError
from geo.register import get_lifecycle, summarise, total_row
from geo.register import browse
from geo.register.browse import COLOURS, MAJOR_GRADES, LedgerFilter
from geo.register.hazard import record_hazard
from geo.risk.rules import LEVEL_LABELS
from layers.web import url_path

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LABELS = {
    "encroachment_status": get_lifecycle("encroachment").statuses, "hazard_status": get_lifecycle("hazard").statuses,
    "kinds": ENCROACHMENT_KINDS, "natures": ENCROACHMENT_NATURES, "levels": HAZARD_LEVELS,
    "categories": INDUSTRY_CATEGORIES, "colours": COLOURS, "colour_labels": LEVEL_LABELS, "grades": MAJOR_GRADES,
}


def _ledger(request: Request, principal: Principal, conn: Connection, *, kind: str, template: str, title: str,
            lister: Any, **extra: Any) -> HTMLResponse:
    """A ledger page; a bad filter is shown in Chinese above an empty list (422)."""
    error = None
    status = 200
    try:
        f = ledger_filter(request)
        data = lister(conn, f)
    except InvalidInput as exc:
        f, data, error, status = LedgerFilter(), browse.LedgerPage(rows=[], total=0, page=1, size=1), exc.message, 422
    return page(request, principal, template, conn=conn, status=status, nav="ledgers",
                crumbs=[("台账", None), (title, None)], title=title, kind=kind, data=data, error=error,
                described=browse.describe(conn, kind, f), labels=LABELS, choices=browse.choices(conn),
                can_edit=can_edit(principal), **context_for(f), **extra)


def _xlsx(conn: Connection, request: Request, kind: str, filename: str) -> Response:
    f = ledger_filter(request)
    with tempfile.TemporaryDirectory() as tmp:
        data = browse.write_filtered_xlsx(conn, Path(tmp) / "ledger.xlsx", kind=kind, f=f).read_bytes()
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename={kind}.xlsx; filename*=UTF-8''{quote(filename)}"})


def _summary(conn: Connection, kind: str) -> dict[str, Any]:
    rows = summarise(conn, kind, by="township")
    return {"rows": rows, "total": total_row(rows)}


@router.get("/ledgers/encroachments", response_class=HTMLResponse)
def encroachment_ledger(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """占压点台账: filter, sort, page; the rectification summary per township; link to the check's candidates."""
    return _ledger(request, principal, conn, kind="encroachment", template="wb_ledger_encroachments.html",
                   title="占压点台账", lister=browse.encroachments, summary=_summary(conn, "encroachment"))


@router.get("/ledgers/encroachments/export.xlsx")
def encroachment_export(request: Request, conn: ConnDep) -> Response:
    return _xlsx(conn, request, "encroachment", "占压点台账.xlsx")


@router.get("/ledgers/hazards", response_class=HTMLResponse)
def hazard_ledger(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """隐患台账 with the form that records a new hazard."""
    return _ledger(request, principal, conn, kind="hazard", template="wb_ledger_hazards.html", title="隐患台账",
                   lister=browse.hazards, summary=_summary(conn, "hazard"), form_error=None, form={},
                   enterprise_options=_enterprise_options(conn) if can_edit(principal) else [])


@router.get("/ledgers/hazards/export.xlsx")
def hazard_export(request: Request, conn: ConnDep) -> Response:
    return _xlsx(conn, request, "hazard", "隐患台账.xlsx")


@router.get("/ledgers/enterprises", response_class=HTMLResponse)
def enterprise_ledger(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """企业 with their current risk colour, category and township."""
    return _ledger(request, principal, conn, kind="enterprise", template="wb_ledger_enterprises.html",
                   title="企业台账", lister=browse.enterprises)


@router.get("/ledgers/major-hazards", response_class=HTMLResponse)
def major_hazard_ledger(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """重大危险源 as identified and graded by the last risk computation (GB 18218-2018)."""
    return _ledger(request, principal, conn, kind="major_hazard", template="wb_ledger_major_hazards.html",
                   title="重大危险源清单", lister=browse.major_hazards)


@router.get("/ledgers/major-hazards/export.xlsx")
def major_hazard_export(request: Request, conn: ConnDep) -> Response:
    return _xlsx(conn, request, "major_hazard", "重大危险源清单.xlsx")


# --- the encroachment check's candidates ------------------------------------------------------------------------

CANDIDATES_PER_PAGE = 50


def _candidates_page(request: Request, principal: Principal, conn: Connection, *, status: int = 200,
                     error: str | None = None) -> HTMLResponse:
    q = request.query_params
    township, pipeline = q.get("township") or None, q.get("pipeline") or None
    number = int(q["page"]) if q.get("page", "").isdigit() and 0 < int(q["page"]) < 10**6 else 1
    try:
        rows = list_candidates(conn, pipeline_code=pipeline, township_code=township)
    except RiskmapError as exc:
        rows, error, status = [], exc.message, status_of(exc)
    confirmed = browse.confirmed_candidates(conn)
    if q.get("all") != "1":
        rows = [r for r in rows if r.candidate_id not in confirmed]
    start = (number - 1) * CANDIDATES_PER_PAGE
    shown = browse.LedgerPage(rows=rows[start:start + CANDIDATES_PER_PAGE],  # type: ignore[arg-type]
                              total=len(rows), page=number, size=CANDIDATES_PER_PAGE)

    def link(**changes: Any) -> str:
        keep = {"township": township, "pipeline": pipeline, "page": changes.get("page", number)}
        return "?" + urlencode({k: v for k, v in keep.items() if v})

    return page(request, principal, "wb_candidates.html", conn=conn, status=status, nav="ledgers",
                crumbs=[("台账", None), ("占压点台账", "/ledgers/encroachments"), ("自动排查候选", None)],
                title="占压自动排查候选", data=shown, link=link, zones={z.code: z for z in load_zones().all()},
                feature_types=FEATURE_TYPES, confirmed=confirmed, checked=q.get("checked"), error=error,
                can_edit=can_edit(principal), labels=LABELS, choices=browse.choices(conn), township=township,
                pipeline=pipeline)


@router.get("/ledgers/encroachments/candidates", response_class=HTMLResponse)
def candidate_list(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """Open candidates of the last check (石油天然气管道保护法 第三十条、第三十五条), each with 认定."""
    return _candidates_page(request, principal, conn)


@router.post("/ledgers/encroachments/candidates/check", response_class=HTMLResponse)
def candidate_check(request: Request, principal: PrincipalDep) -> Response:
    """Run the check again (refreshes the candidates), then show them."""
    try:
        if not can_edit(principal):
            raise Forbidden("当前账号无权运行占压排查")
        n = len(write(principal, lambda c: check_encroachments(c)))
    except RiskmapError as exc:
        return _refused(request, principal, exc)
    return RedirectResponse(f"/ledgers/encroachments/candidates?checked={n}", status_code=303)


@router.post("/ledgers/encroachments/candidates/{candidate_id}/confirm", response_class=HTMLResponse)
def candidate_confirm(candidate_id: int, request: Request, principal: PrincipalDep, form: FormDep) -> Response:
    """认定: the candidate becomes an encroachment dossier (status 认定); on to its page."""
    try:
        if not can_edit(principal):
            raise Forbidden("当前账号无权认定占压点")
        fields = {"nature": form_text(form, "nature", 24), "measure": form_text(form, "measure"),
                  "deadline": form_day(form, "deadline"), "description": form_text(form, "description")}
        code = write(principal, lambda c: confirm_candidate(c, candidate_id, by=person(principal), **fields))
    except RiskmapError as exc:
        return _refused(request, principal, exc)
    return RedirectResponse(url_path("dossiers", "encroachments", code) + "?done=confirmed", status_code=303)


def _refused(request: Request, principal: Principal, exc: RiskmapError) -> HTMLResponse:
    from geo.db import get_engine
    from geo.access import bind

    with get_engine().connect() as conn:
        bind(conn, principal)
        return _candidates_page(request, principal, conn, status=status_of(exc), error=exc.message)


# --- recording a hazard ------------------------------------------------------------------------------------------

@router.post("/ledgers/hazards/new", response_class=HTMLResponse)
def hazard_new(request: Request, principal: PrincipalDep, form: FormDep) -> Response:
    """登记隐患 for an enterprise the user may see (a township editor: only in its townships); on to its dossier."""
    values = {k: form.get(k) if isinstance(form.get(k), str) else "" for k in
              ("enterprise_uscc", "level", "description", "deadline", "found_on")}
    try:
        if not can_edit(principal):
            raise Forbidden("当前账号无权登记隐患")
        uscc = next(iter((form_text(form, "enterprise_uscc", 200) or "").split()), "")
        if len(uscc) != 18:
            raise InvalidInput("字段 enterprise_uscc（统一社会信用代码）应为 18 位")
        level = form_text(form, "level", 10) or ""
        fields = {"description": form_text(form, "description"), "deadline": form_day(form, "deadline"),
                  "found_on": form_day(form, "found_on")}

        def run(conn: Connection) -> str:
            try:
                return record_hazard(conn, enterprise_uscc=uscc, level=level, by=person(principal), **fields)
            except NotFound:
                if principal.county_wide:
                    raise
                raise Forbidden(f"{SCOPE_REFUSAL}：统一社会信用代码为 {uscc} 的企业不在你所辖乡镇内（或不存在），"
                                "不能为其登记隐患") from None

        code = write(principal, run)
    except RiskmapError as exc:
        from geo.access import bind
        from geo.db import get_engine

        with get_engine().connect() as conn:
            bind(conn, principal)
            return page(request, principal, "wb_hazard_new.html", conn=conn, status=status_of(exc), nav="ledgers",
                        crumbs=[("台账", None), ("隐患台账", "/ledgers/hazards"), ("登记隐患", None)],
                        title="登记隐患", form_error=exc.message, form=values, labels=LABELS,
                        enterprise_options=_enterprise_options(conn))
    return RedirectResponse(url_path("dossiers", "hazards", code) + "?done=created", status_code=303)


@router.get("/ledgers/hazards/new", response_class=HTMLResponse)
def hazard_form(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """The form alone (the enterprise given by ?uscc=…)."""
    return page(request, principal, "wb_hazard_new.html", conn=conn, nav="ledgers",
                crumbs=[("台账", None), ("隐患台账", "/ledgers/hazards"), ("登记隐患", None)], title="登记隐患",
                form_error=None, form={"enterprise_uscc": request.query_params.get("uscc", "")[:18]},
                labels=LABELS, enterprise_options=_enterprise_options(conn))


def _enterprise_options(conn: Connection) -> list[tuple[str, str]]:
    return browse.enterprise_choices(conn)
