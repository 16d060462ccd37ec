"""Pairs and circles: list, add, remove, move between tracks, and import a CSV, previewed
line by line before anything is written (``core.admin.roster`` and ``imports``)."""

from __future__ import annotations

from aiohttp import web

from adapters.console.http import MAX_UPLOAD, PATH, Admin, deps, page, see_other, signed_in, text
from core.admin import imports, roster
from core.admin.imports import LineStatus, Preview
from core.admin.tracks import tracks
from core.errors import InvalidInput, RosterError

SAVED = {
    "added": "Added.",
    "removed": "Removed. The people stay in the program.",
    "moved": "Moved. Its next search uses its new track's rules.",
    "linked": "The circle's channel is saved.",
}
KINDS = ("pairs", "circles")


async def listing(request: web.Request, admin: Admin, *, error: str = "") -> web.Response:
    kind = request.match_info["kind"]
    ports = deps(request).admin
    active = await tracks(ports, admin.scope, archived=False)
    values = {
        "pairs": await roster.pairs(ports, admin.scope) if kind == "pairs" else [],
        "circles": await roster.circles(ports, admin.scope) if kind == "circles" else [],
    }
    names = {t.id: t.name for t in await tracks(ports, admin.scope)}
    return page(
        request,
        f"{kind}.html",
        admin=admin,
        status=400 if error else 200,
        title="Pairs" if kind == "pairs" else "Circles",
        tracks=active,
        track_names=names,
        saved=SAVED.get(request.query.get("saved", ""), ""),
        error=error,
        **values,
    )


async def show(request: web.Request, admin: Admin) -> web.StreamResponse:
    return await listing(request, admin)


async def change(request: web.Request, admin: Admin) -> web.StreamResponse:
    """Add, remove, move or link, by the form's ``verb``; a refusal shows on the list."""
    kind = request.match_info["kind"]
    verb = request.match_info["verb"]
    form = await request.post()
    ports, scope = deps(request).admin, admin.scope
    track = text(form, "track") or None
    try:
        if kind == "pairs":
            mentor, mentee = text(form, "mentor"), text(form, "mentee")
            if verb == "add":
                await roster.add_pair(ports, scope, mentor, mentee, track)
            elif verb == "remove":
                await roster.remove_pair(ports, scope, mentor, mentee)
            elif verb == "move":
                await roster.move_pair(ports, scope, mentor, mentee, text(form, "track"))
            else:
                raise web.HTTPNotFound
        else:
            name = text(form, "name")
            if verb == "add":
                members = _members(text(form, "members"))
                await roster.add_circle(ports, scope, name, track)
                for member in members:
                    await roster.add_member(ports, scope, name, member)
            elif verb == "remove":
                await roster.remove_circle(ports, scope, name)
            elif verb == "move":
                await roster.move_circle(ports, scope, name, text(form, "track"))
            elif verb == "link":
                await roster.link_circle(ports, scope, name, text(form, "channel") or None)
                verb = "linked"
            else:
                raise web.HTTPNotFound
    except (RosterError, InvalidInput) as error:  # NotAllowed goes on: a 403 page
        return await listing(request, admin, error=str(error))
    done = {"add": "added", "remove": "removed", "move": "moved"}.get(verb, verb)
    raise see_other(f"{PATH}/{kind}", saved=done)


def _members(field: str) -> list[str]:
    """The members a new circle's form names, all checked before the circle is made."""
    members = [m.strip() for m in field.replace(",", "\n").splitlines() if m.strip()]
    for member in members:
        problem = roster.reference_problem(member)
        if problem is not None:
            raise RosterError(problem)
    return members


async def import_file(request: web.Request, admin: Admin) -> web.StreamResponse:
    """An uploaded CSV (first: the preview) or the previewed text sent back (then: the
    import, all of it, or the good lines only)."""
    kind = request.match_info["kind"]
    form = await request.post()
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        raw = upload.file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            return await listing(request, admin, error="That file is too large (at most 1 MB).")
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return await listing(request, admin, error="That file is not UTF-8 text (CSV).")
    else:
        content = text(form, "content")
    if not content.strip():
        return await listing(request, admin, error="Choose a CSV file to import.")
    ports, scope = deps(request).admin, admin.scope
    track = text(form, "track") or None
    lines = content.splitlines()
    action = text(form, "action")
    check = imports.preview_pairs if kind == "pairs" else imports.preview_circles
    try:
        preview = await check(ports, scope, lines, track)
        if action in ("import", "partial"):
            report = await imports.write(ports, scope, preview, partial=action == "partial")
            if report.written:
                raise see_other(f"{PATH}/{kind}", saved="added")
    except (RosterError, InvalidInput) as error:
        return await listing(request, admin, error=str(error))
    return _preview(request, admin, kind, preview=preview, content=content, track=track)


def _preview(
    request: web.Request,
    admin: Admin,
    kind: str,
    *,
    preview: Preview,
    content: str,
    track: str | None,
) -> web.Response:
    return page(
        request,
        "import_preview.html",
        admin=admin,
        title=f"Import {kind}: check each line",
        kind=kind,
        preview=preview,
        statuses=LineStatus,
        new=preview.count(LineStatus.NEW),
        unchanged=preview.count(LineStatus.UNCHANGED),
        errors=len(preview.errors),
        content=content,
        track=track or "",
    )


def add_routes(router: web.UrlDispatcher) -> None:
    kinds = "|".join(KINDS)
    router.add_get(f"{PATH}/{{kind:{kinds}}}", signed_in(show))
    router.add_post(f"{PATH}/{{kind:{kinds}}}/import", signed_in(import_file))
    router.add_post(f"{PATH}/{{kind:{kinds}}}/{{verb:add|remove|move|link}}", signed_in(change))
