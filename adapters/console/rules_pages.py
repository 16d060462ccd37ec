"""Tracks, their rules and the audit log: pages over ``core.admin.tracks``, ``rules`` and
``audit_log``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from adapters.console.http import PATH, Admin, deps, page, see_other, signed_in, text
from core.admin.audit_log import audit_log
from core.admin.rule_fields import Kind, changes_from_form, rule_field
from core.admin.rules import change_program_rules, change_track_rules, rules_page
from core.admin.tracks import archive_track, create_track, rename_track, tracks
from core.commands import Provider
from core.errors import InvalidInput
from core.scheduling.info import SETUP
from core.time import zone_named

SAVED = {
    "created": "The track is created.",
    "renamed": "The track is renamed.",
    "archived": "The track is archived. Its pairs and circles keep its rules.",
    "restored": "The track is active again.",
    "rules": "Saved. The next search uses these rules.",
}


def zone_of(admin: Admin) -> ZoneInfo:
    """The admin's own zone (times are shown in it), or UTC when their profile has none."""
    try:
        return zone_named(admin.person.timezone or "UTC")
    except InvalidInput:
        return ZoneInfo("UTC")


def when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


async def tracks_page(request: web.Request, admin: Admin) -> web.StreamResponse:
    ports = deps(request).admin
    return page(
        request,
        "tracks.html",
        admin=admin,
        title="Tracks",
        tracks=await tracks(ports, admin.scope),
        saved=SAVED.get(request.query.get("saved", ""), ""),
    )


async def create(request: web.Request, admin: Admin) -> web.StreamResponse:
    form = await request.post()
    created = await create_track(deps(request).admin, admin.scope, text(form, "name"))
    raise see_other(f"{PATH}/tracks", saved="created", track=created.id)


async def rename(request: web.Request, admin: Admin) -> web.StreamResponse:
    form = await request.post()
    await rename_track(
        deps(request).admin, admin.scope, request.match_info["track"], text(form, "name")
    )
    raise see_other(f"{PATH}/tracks", saved="renamed")


async def archive(request: web.Request, admin: Admin) -> web.StreamResponse:
    archived = request.match_info["verb"] == "archive"
    await archive_track(
        deps(request).admin, admin.scope, request.match_info["track"], archived=archived
    )
    raise see_other(f"{PATH}/tracks", saved="archived" if archived else "restored")


async def rules(request: web.Request, admin: Admin) -> web.StreamResponse:
    track = request.match_info.get("track")
    if track is None and not admin.scope.program_wide:
        # An admin of some tracks has no program rules to change: their first track's.
        mine = await tracks(deps(request).admin, admin.scope)
        raise see_other(f"{PATH}/tracks/{mine[0].id}/rules")
    return await _rules(request, admin, track)


async def _rules(
    request: web.Request,
    admin: Admin,
    track: str | None,
    *,
    error: str = "",
    status: int = 200,
) -> web.StreamResponse:
    ports = deps(request).admin
    shown = await rules_page(ports, admin.scope, track)
    entries = await audit_log(ports, admin.scope, track=track, limit=20) if track else []
    if track is None:
        entries = [
            e for e in await audit_log(ports, admin.scope, limit=50) if e.change.track is None
        ]
    zone = zone_of(admin)
    return page(
        request,
        "rules.html",
        admin=admin,
        status=status,
        title=f"Rules of {shown.track.name}" if shown.track else "The program's rules",
        rules=shown,
        kinds=Kind,
        providers=list(Provider),
        # What an admin adds for a service this server has not set up (issue 14).
        unset={p: SETUP[p] for p in Provider if p not in deps(request).available},
        all_tracks=await tracks(ports, admin.scope),
        entries=[(when(e.at, zone), e) for e in entries],
        saved=SAVED.get(request.query.get("saved", ""), ""),
        error=error,
    )


async def save_rules(request: web.Request, admin: Admin) -> web.StreamResponse:
    track = request.match_info.get("track")
    form = await request.post()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    ports = deps(request).admin
    try:
        changes, inherit = changes_from_form(values, track=track is not None)
        if track is None:
            await change_program_rules(ports, admin.scope, changes, field=_label)
        else:
            await change_track_rules(
                ports, admin.scope, track, changes, inherit=inherit, field=_label
            )
    except InvalidInput as error:
        message = f"{_label(error.field)}: {error.message}"
        return await _rules(request, admin, track, error=message, status=400)
    location = f"{PATH}/tracks/{track}/rules" if track else f"{PATH}/rules"
    raise see_other(location, saved="rules")


def _label(name: str) -> str:
    try:
        return rule_field(name).label
    except InvalidInput:
        return name


async def audit(request: web.Request, admin: Admin) -> web.StreamResponse:
    entries = await audit_log(deps(request).admin, admin.scope, limit=200)
    zone = zone_of(admin)
    return page(
        request,
        "audit.html",
        admin=admin,
        title="Audit log",
        entries=[(when(e.at, zone), e) for e in entries],
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(f"{PATH}/tracks", signed_in(tracks_page))
    router.add_post(f"{PATH}/tracks", signed_in(create))
    router.add_post(f"{PATH}/tracks/{{track}}/rename", signed_in(rename))
    router.add_post(f"{PATH}/tracks/{{track}}/{{verb:archive|restore}}", signed_in(archive))
    router.add_get(f"{PATH}/rules", signed_in(rules))
    router.add_post(f"{PATH}/rules", signed_in(save_rules))
    router.add_get(f"{PATH}/tracks/{{track}}/rules", signed_in(rules))
    router.add_post(f"{PATH}/tracks/{{track}}/rules", signed_in(save_rules))
    router.add_get(f"{PATH}/audit", signed_in(audit))
