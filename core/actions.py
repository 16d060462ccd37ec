"""Button actions: what a button asks Pairtime to do, and the signed references that carry them.

Each action is a frozen dataclass (:data:`Action` lists them all), and the use cases
dispatch on it with ``match`` and :func:`typing.assert_never`: a new action that some
handler forgets is a type error, not a "stale button" at run time.

A button never holds a raw database id that a person could edit to act on
someone else's offer. It holds the action as a small payload signed with
HMAC-SHA256; Pairtime checks the signature, then still checks that the person
clicking may act (a signature proves where a reference came from, not who
clicks). Several keys may verify, the first signs: keys rotate without
breaking buttons already posted.

The payload is JSON with short keys, to keep references short:
``{"k": kind, "v": version, ...fields}``. This module is the only place that knows the
keys: each field names its key and its form with ``Annotated[..., Key("o", NUMBER)]``.
References from before the version was written (no ``"v"``) are version 1, the same
format. To add an action: write its dataclass with a new ``kind`` and its keys, add it to
:data:`Action`, and let mypy show every ``match`` that must handle it.

Every action but :class:`ReplayFind` has fields of bounded size and stays far below
:data:`INLINE_LIMIT`. A ReplayFind carries its people and its ruled-out times, so a big
circle's (40 people, or fewer with ruled-out dates) passes Slack's 2,000 characters per
button: such a request is kept server-side, as a slot offer with no times yet, and its
button carries a :class:`ReplayKept` naming that row
(``core.scheduling.common.replay_reference``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, TypeVar, get_args, get_type_hints

from core.commands import Exclusions, TimeOfDay, Weekly
from core.errors import InvalidAction
from core.people import PersonId
from core.polls import Choice
from core.time import DayTime, Interval

__all__ = [
    "INLINE_LIMIT",
    "AcceptMeeting",
    "Action",
    "ActionCodec",
    "CancelMeeting",
    "ConfirmCancel",
    "Connect",
    "DeclineMeeting",
    "Disconnect",
    "DownloadInvitation",
    "EditPoll",
    "ForgetMe",
    "InvalidAction",
    "KeepMe",
    "KeepMeeting",
    "MoreTimes",
    "MoveMeeting",
    "OtherTimes",
    "PickSlot",
    "PollOp",
    "ReplayFind",
    "ReplayKept",
    "SetPlace",
    "Vote",
]

_SIGNATURE_BYTES = 16  # 128 bits: forgery is out of reach, values stay short
FORMAT = 1  # the payload's version; a reference without one is version 1
# Characters: the longest reference a button carries itself. Slack takes 2,000 per button
# value; a Teams card carries each reference twice (Action.Execute and its Action.Submit
# fallback) within 28 KB, and a question has up to eight options. A pair's request with
# eight ruled-out dates (~470) or an eight-person circle's (~800 with them) still fits; a
# circle of 30 (~1,550, ~1,830 with eight dates) is kept; one of 40 (~2,020) was refused.
INLINE_LIMIT = 1000

T = TypeVar("T")


# ---------------------------------------------------------------- how fields travel


@dataclass(frozen=True, slots=True)
class Form(Generic[T]):
    """One field's JSON form: ``dump`` writes it, ``load`` reads it back and raises
    ``TypeError`` or ``ValueError`` on anything it did not write."""

    dump: Callable[[T], object]
    load: Callable[[object], T]


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected text")
    return value


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected a whole number")
    return value


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _pair(value: object) -> tuple[int, int]:
    first, second = (_whole(item) for item in _list(value))
    return first, second


def _moment(value: object) -> datetime:
    return datetime.fromtimestamp(_whole(value), UTC)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _span(value: object) -> Interval:
    start, end = _pair(value)
    return Interval(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))


def _hours(value: object) -> TimeOfDay:
    start, end = _pair(value)
    return TimeOfDay(DayTime(start), DayTime(end))


def _dump_weekly(rule: Weekly) -> list[int]:
    mask = sum(1 << day for day in rule.days)
    if rule.hours is None:
        return [mask]
    return [mask, rule.hours.start.minutes, rule.hours.end.minutes]


def _weekly(value: object) -> Weekly:
    mask, *hours = (_whole(item) for item in _list(value))
    if not 0 <= mask < 1 << 7 or len(hours) not in (0, 2):
        raise ValueError("expected a weekday mask and perhaps hours")
    days = frozenset(day for day in range(7) if mask & 1 << day)
    return Weekly(days, _hours(hours) if hours else None)


def _dump_exclusions(ruled_out: Exclusions) -> list[object]:
    spans = [[_seconds(span.start), _seconds(span.end)] for span in ruled_out.spans]
    return [spans, [_dump_weekly(rule) for rule in ruled_out.weekly]]


def _exclusions(value: object) -> Exclusions:
    spans, weekly = _list(value)
    return Exclusions(
        tuple(_span(span) for span in _list(spans)), tuple(_weekly(rule) for rule in _list(weekly))
    )


TEXT: Form[str] = Form(str, _text)
PERSON: Form[PersonId] = Form(str, lambda value: PersonId(_text(value)))
NUMBER: Form[int] = Form(int, _whole)
MOMENT: Form[datetime] = Form(_seconds, _moment)  # whole seconds since the epoch
SPAN: Form[Interval] = Form(lambda span: [_seconds(span.start), _seconds(span.end)], _span)
PEOPLE: Form[tuple[PersonId, ...]] = Form(
    list, lambda value: tuple(PersonId(_text(item)) for item in _list(value))
)
HOURS: Form[TimeOfDay] = Form(lambda tod: [tod.start.minutes, tod.end.minutes], _hours)
CHOICE: Form[Choice] = Form(str, lambda value: Choice(_text(value)))
# [[[start, end] seconds, ...], [[weekday bits (1 is Monday; 0 every day), from, to minutes]]]
EXCLUSIONS: Form[Exclusions] = Form(_dump_exclusions, _exclusions)


@dataclass(frozen=True, slots=True)
class Key:
    """A field's short key in the payload, and its form (text unless said)."""

    short: str
    form: Form[Any] = TEXT


# ---------------------------------------------------------------- the actions


@dataclass(frozen=True, slots=True)
class PickSlot:
    """Book this time of a slot offer."""

    kind: ClassVar[str] = "pick"
    offer: Annotated[str, Key("o")]
    start: Annotated[datetime, Key("s", MOMENT)]


@dataclass(frozen=True, slots=True)
class MoreTimes:
    """Show the next page of a slot offer."""

    kind: ClassVar[str] = "more"
    offer: Annotated[str, Key("o")]


@dataclass(frozen=True, slots=True)
class ReplayFind:
    """Run a find-time request again, settled (a clarification, "look further ahead")."""

    kind: ClassVar[str] = "find"
    requester: Annotated[PersonId, Key("r", PERSON)]
    others: Annotated[tuple[PersonId, ...], Key("p", PEOPLE)]
    duration_minutes: Annotated[int, Key("d", NUMBER)]
    window: Annotated[Interval, Key("w", SPAN)]
    time_of_day: Annotated[TimeOfDay | None, Key("t", HOURS)] = None
    moving: Annotated[str | None, Key("m")] = None  # the meeting a picked time moves
    # "not Monday", "no mornings": a later window or a shorter meeting keeps them.
    ruled_out: Annotated[Exclusions | None, Key("x", EXCLUSIONS)] = None


@dataclass(frozen=True, slots=True)
class ReplayKept:
    """A :class:`ReplayFind` too long for a button (over :data:`INLINE_LIMIT`): the request
    is kept as a slot offer with no times yet (``offer``), which the click runs. Being an
    offer, it is kept as long as offers are and removed with the people it names."""

    kind: ClassVar[str] = "kept"
    offer: Annotated[str, Key("o")]


@dataclass(frozen=True, slots=True)
class CancelMeeting:
    """Ask whether to cancel this meeting (nothing changes until :class:`ConfirmCancel`)."""

    kind: ClassVar[str] = "cancel"
    meeting: Annotated[str, Key("m")]


@dataclass(frozen=True, slots=True)
class ConfirmCancel:
    """Yes, cancel it: the meeting as it was when asked (``sequence``), or nothing."""

    kind: ClassVar[str] = "cancelok"
    meeting: Annotated[str, Key("m")]
    sequence: Annotated[int, Key("s", NUMBER)]


@dataclass(frozen=True, slots=True)
class KeepMeeting:
    """No, keep it: the answer to the cancel question."""

    kind: ClassVar[str] = "keep"
    meeting: Annotated[str, Key("m")]


@dataclass(frozen=True, slots=True)
class AcceptMeeting:
    """The partner accepts the time proposed at ``sequence``."""

    kind: ClassVar[str] = "accept"
    meeting: Annotated[str, Key("m")]
    sequence: Annotated[int, Key("s", NUMBER)]


@dataclass(frozen=True, slots=True)
class DeclineMeeting:
    """The partner declines the time proposed at ``sequence`` (a circle member: for
    themselves)."""

    kind: ClassVar[str] = "decline"
    meeting: Annotated[str, Key("m")]
    sequence: Annotated[int, Key("s", NUMBER)]


@dataclass(frozen=True, slots=True)
class OtherTimes:
    """The partner would rather pick another time for the proposal at ``sequence``."""

    kind: ClassVar[str] = "other"
    meeting: Annotated[str, Key("m")]
    sequence: Annotated[int, Key("s", NUMBER)]


@dataclass(frozen=True, slots=True)
class MoveMeeting:
    """Find another time for this meeting, with the same people."""

    kind: ClassVar[str] = "move"
    meeting: Annotated[str, Key("m")]


@dataclass(frozen=True, slots=True)
class SetPlace:
    """The booker's link or room for this meeting (the field's value comes with the click)."""

    kind: ClassVar[str] = "place"
    meeting: Annotated[str, Key("m")]


@dataclass(frozen=True, slots=True)
class DownloadInvitation:
    """Not a button: the token of a meeting's .ics link, for ``person``."""

    kind: ClassVar[str] = "ics"
    meeting: Annotated[str, Key("m")]
    person: Annotated[PersonId, Key("p", PERSON)]


class PollOp(StrEnum):
    """What an organiser's button does to their poll."""

    REMOVE = "remove"  # an option (``option``) from the draft
    ADD = "add"  # a time of the organiser's own (the field's value comes with the click)
    DEADLINE = "deadline"  # ``hours`` from now, 0 for none
    REQUIRE = "require"  # toggle ``person`` as a required attendee
    POST = "post"
    CLOSE = "close"
    CANCEL = "cancel"


POLL_OP: Form[PollOp] = Form(str, lambda value: PollOp(_text(value)))


@dataclass(frozen=True, slots=True)
class EditPoll:
    """The organiser's buttons: draft edits, posting, closing, cancelling."""

    kind: ClassVar[str] = "poll"
    poll: Annotated[str, Key("p")]
    op: Annotated[PollOp, Key("op", POLL_OP)]
    option: Annotated[int | None, Key("o", NUMBER)] = None
    hours: Annotated[int | None, Key("h", NUMBER)] = None
    person: Annotated[PersonId | None, Key("u", PERSON)] = None


@dataclass(frozen=True, slots=True)
class Vote:
    """An invitee's vote for one option of a poll (clicking again withdraws it)."""

    kind: ClassVar[str] = "vote"
    poll: Annotated[str, Key("p")]
    option: Annotated[int, Key("o", NUMBER)]
    choice: Annotated[Choice, Key("c", CHOICE)]


@dataclass(frozen=True, slots=True)
class Connect:
    """Send me my own connect links (a button on a card everyone shares)."""

    kind: ClassVar[str] = "connect"


@dataclass(frozen=True, slots=True)
class Disconnect:
    kind: ClassVar[str] = "disconnect"
    requester: Annotated[PersonId, Key("r", PERSON)]


@dataclass(frozen=True, slots=True)
class ForgetMe:
    """Yes, forget me: the answer to "forget me", for the person who asked only."""

    kind: ClassVar[str] = "forget"
    requester: Annotated[PersonId, Key("r", PERSON)]


@dataclass(frozen=True, slots=True)
class KeepMe:
    """No, keep my data: nothing changes."""

    kind: ClassVar[str] = "keepme"


Action = (
    PickSlot
    | MoreTimes
    | ReplayFind
    | ReplayKept
    | CancelMeeting
    | ConfirmCancel
    | KeepMeeting
    | AcceptMeeting
    | DeclineMeeting
    | OtherTimes
    | MoveMeeting
    | SetPlace
    | DownloadInvitation
    | EditPoll
    | Vote
    | Connect
    | Disconnect
    | ForgetMe
    | KeepMe
)


# ---------------------------------------------------------------- the codec


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    key: Key
    optional: bool


def _layout(cls: type) -> tuple[_Field, ...]:
    hints = get_type_hints(cls, include_extras=True)
    layout = []
    for each in fields(cls):
        keys = [m for m in getattr(hints[each.name], "__metadata__", ()) if isinstance(m, Key)]
        if len(keys) != 1:
            raise TypeError(f"{cls.__name__}.{each.name} needs one Key")
        layout.append(_Field(each.name, keys[0], optional=each.default is None))
        if each.default is not MISSING and each.default is not None:
            raise TypeError(f"{cls.__name__}.{each.name}: only None may be a default")
    shorts = [f.key.short for f in layout]
    if len(set(shorts)) != len(shorts) or {"k", "v"} & set(shorts):
        raise TypeError(f"{cls.__name__}: keys must be distinct, and not k or v")
    return tuple(layout)


_KINDS: dict[str, tuple[type[Any], tuple[_Field, ...]]] = {}
for _cls in get_args(Action):
    if _cls.kind in _KINDS:
        raise TypeError(f"two actions are called {_cls.kind!r}")
    _KINDS[_cls.kind] = (_cls, _layout(_cls))


def dump(action: Action) -> dict[str, object]:
    """The payload of ``action`` (what is signed)."""
    _, layout = _KINDS[action.kind]
    payload: dict[str, object] = {"k": action.kind, "v": FORMAT}
    for each in layout:
        value = getattr(action, each.name)
        if value is not None:
            payload[each.key.short] = each.key.form.dump(value)
    return payload


def load(payload: object) -> Action:
    """The action in ``payload``; :class:`InvalidAction` for anything :func:`dump` did not
    write (an unknown kind or version, a missing or mistyped field)."""
    if not isinstance(payload, dict):
        raise InvalidAction("the action reference is malformed")
    version = payload.get("v", 1)
    if version != FORMAT:
        raise InvalidAction("the action reference is from another version of Pairtime")
    kind = payload.get("k")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise InvalidAction("the action reference names no action Pairtime knows")
    cls, layout = _KINDS[kind]
    values: dict[str, object] = {}
    try:
        for each in layout:
            raw = payload.get(each.key.short)
            if raw is None:
                if not each.optional:
                    raise InvalidAction(f"the {kind!r} reference lacks its {each.name}")
                values[each.name] = None
            else:
                values[each.name] = each.key.form.load(raw)
        action: Action = cls(**values)
    except (TypeError, ValueError, OverflowError, OSError) as error:  # a time out of range
        raise InvalidAction(f"the {kind!r} reference is malformed") from error
    return action


class ActionCodec:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed to sign actions")
        # Derive a key for this purpose alone, so the same secret may serve elsewhere.
        self._keys = [
            hmac.new(key, b"pairtime action references", hashlib.sha256).digest() for key in keys
        ]

    def seal(self, action: Action) -> str:
        """``action`` as a signed reference, for a button's value or a link."""
        body = json.dumps(dump(action), separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._sign(self._keys[0], body))}"

    def open(self, reference: str) -> Action:
        """The action a reference carries; :class:`InvalidAction` when it was not made by
        Pairtime, was altered, or carries no action this version knows."""
        try:
            body_text, signature_text = reference.split(".")
            body, signature = _unb64(body_text), _unb64(signature_text)
        except ValueError as error:
            raise InvalidAction("not an action reference") from error
        if not any(hmac.compare_digest(self._sign(key, body), signature) for key in self._keys):
            raise InvalidAction("the action reference's signature does not match")
        try:
            payload = json.loads(body)
        except ValueError as error:  # cannot happen for a reference we signed
            raise InvalidAction("the action reference is malformed") from error
        return load(payload)

    @staticmethod
    def _sign(key: bytes, body: bytes) -> bytes:
        return hmac.digest(key, body, "sha256")[:_SIGNATURE_BYTES]  # one-shot: in C


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64") from error
