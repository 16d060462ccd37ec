"""Activity: per pair, per circle and per track (``core.admin.activity``), with each
track's meetings per week drawn as SVG on the server (readable without JavaScript, and
with its numbers in a table too), and every table exported as CSV."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from adapters.console.http import PATH, Admin, csv_file, deps, page, signed_in
from adapters.console.rules_pages import when, zone_of
from core.admin.activity import Activity, Stats, TrackActivity, activity

TABLES = ("pairs", "circles", "tracks")
CHART_WIDTH, CHART_HEIGHT, AXIS = 600, 200, 30


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str  # "week of 2026-11-30"
    count: int
    tick: str  # "30 Nov"


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    axis: int
    top: int  # the largest count, the scale's top
    bars: tuple[Bar, ...]


def chart(track: TrackActivity) -> Chart:
    top = max((count for _, count in track.weeks), default=0) or 1
    slot = CHART_WIDTH // max(len(track.weeks), 1)
    usable = CHART_HEIGHT - AXIS
    bars = []
    for index, (week, count) in enumerate(track.weeks):
        height = round(usable * count / top)
        bars.append(
            Bar(
                x=index * slot + 4,
                y=usable - height,
                width=slot - 8,
                height=height,
                label=f"week of {week:%Y-%m-%d}",
                count=count,
                tick=f"{week:%d %b}",
            )
        )
    return Chart(CHART_WIDTH, CHART_HEIGHT, AXIS, top, tuple(bars))


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def duration(span: timedelta | None) -> str:
    if span is None:
        return "—"
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def moment(value: datetime | None, zone: ZoneInfo) -> str:
    return when(value, zone) if value else "—"


def stat_cells(stats: Stats, zone: ZoneInfo) -> list[str]:
    return [
        str(stats.booked),
        str(stats.held),
        str(stats.cancelled),
        str(stats.declined),
        moment(stats.last, zone),
        moment(stats.next, zone),
        "—" if stats.days_since is None else str(stats.days_since),
        str(stats.polls),
        percent(stats.response_rate),
        duration(stats.poll_to_booking),
    ]


STAT_HEADERS = [
    "Booked",
    "Held",
    "Cancelled",
    "Declined",
    "Last meeting",
    "Next meeting",
    "Days since they met",
    "Polls",
    "Poll response rate",
    "Poll to booking",
]


def tables(found: Activity, zone: ZoneInfo) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every table of the page as headers and rows of text: the page and the CSV agree."""
    return {
        "pairs": (
            ["Mentor", "Mentee", "Track", *STAT_HEADERS],
            [
                [p.mentor.name, p.mentee.name, p.track, *stat_cells(p.stats, zone)]
                for p in found.pairs
            ],
        ),
        "circles": (
            ["Circle", "Members", "Track", *STAT_HEADERS],
            [[c.name, str(c.members), c.track, *stat_cells(c.stats, zone)] for c in found.circles],
        ),
        "tracks": (
            [
                "Track",
                "Participants",
                "Calendars read",
                "Calendars",
                "Pairs",
                "Pairs not met in 30 days",
                *(f"Week of {week:%Y-%m-%d}" for week, _ in _weeks(found.tracks)),
            ],
            [
                [
                    t.track.name,
                    str(t.participants),
                    percent(t.connected_share),
                    ", ".join(f"{label}: {n}" for label, n in t.calendars),
                    str(t.pairs),
                    str(t.quiet_pairs),
                    *(str(n) for _, n in t.weeks),
                ]
                for t in found.tracks
            ],
        ),
    }


def _weeks(found: Sequence[TrackActivity]) -> Iterable[tuple[object, int]]:
    return found[0].weeks if found else ()


async def activity_page(request: web.Request, admin: Admin) -> web.StreamResponse:
    console = deps(request)
    found = await activity(console.admin, admin.scope, console.people, console.facts)
    zone = zone_of(admin)
    return page(
        request,
        "activity.html",
        admin=admin,
        title="Activity",
        found=found,
        tables=tables(found, zone),
        charts=[(t, chart(t)) for t in found.tracks],
        percent=percent,
        generated=when(found.now, zone),
    )


async def export(request: web.Request, admin: Admin) -> web.StreamResponse:
    name = request.match_info["table"]
    console = deps(request)
    found = await activity(console.admin, admin.scope, console.people, console.facts)
    headers, rows = tables(found, zone_of(admin))[name]
    return csv_file(f"{name}-activity", headers, rows)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(f"{PATH}/activity", signed_in(activity_page))
    tables_pattern = "|".join(TABLES)
    router.add_get(f"{PATH}/activity/{{table:{tables_pattern}}}.csv", signed_in(export))
