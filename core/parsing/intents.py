"""What a message asks for, read from its keywords, and which calendar service it names."""

from __future__ import annotations

import re

from core.commands import Intent, Provider

_GOOGLE = r"google(?:\s+(?:workspace|calendar))?|gmail|gcal|g\s?suite"
_MICROSOFT = (
    r"outlook(?:\.com)?|office\s?365|o365|m365|microsoft(?:\s+365)?|msft|exchange|hotmail|live\.com"
)
_ICLOUD = r"icloud|ical|apple"
_PROVIDERS = (
    (Provider.GOOGLE, re.compile(rf"\b(?:{_GOOGLE})\b")),
    (Provider.MICROSOFT, re.compile(rf"\b(?:{_MICROSOFT})(?![\w.])")),
    (Provider.ICLOUD, re.compile(rf"\b(?:{_ICLOUD})\b")),
)
_CALENDAR = rf"(?:calendars?|cal|{_GOOGLE}|{_MICROSOFT}|{_ICLOUD})\b"
_NEAR = r"\b[^.?!]{0,40}?\b"  # within the same sentence, a few words on

# "Remove my Google calendar" disconnects; "remove the meeting from my
# calendar" does not, so the calendar must be what is removed.
_OBJECT = rf"\s+(?:(?:my|our|the|a)\s+)?(?:[\w.]+\s+)?(?:connection|{_CALENDAR})"
_DISCONNECT = re.compile(
    r"\b(?:disconnect(?!ed)|unlink(?!ed)|unsync|un-?connect|deauthori[sz]e|revoke(?!d))"
    rf"|\b(?:remove|delete|forget|drop|stop\s+using|turn\s+off){_OBJECT}"
)
_STATUS = re.compile(
    r"\bstatus\b|\bconnected\s*\?"
    r"|\b(?:is|are|am|which|what)\b[^.?!]{0,40}?\b(?:connected|linked|hooked\s+up)\b"
    r"|\b(?:which|what)\s+calendars?\b"
    r"|\bcheck\b[^.?!]{0,20}?\bconnection\b"
)
# Connecting a calendar is also "link my calendar"; but "connect with my
# mentee" is a meeting, and "add it to my calendar" after finding a time is
# not a connection either, so the weaker verbs count only without people.
_NOT_WITH = r"(?!\s+(?:me\s+|us\s+)?with\b)"
_CONNECT_STRONG = re.compile(
    rf"\b(?:connect|link|hook\s+up|integrate|authori[sz]e){_NOT_WITH}{_NEAR}{_CALENDAR}"
)
_CONNECT_WEAK = re.compile(rf"\b(?:add|use|set\s?up|sync|switch\s+to|attach|plug\s+in){_OBJECT}")
# A bare "connect" may be about people: "find a time to connect", "connect me to @sam".
_CONNECT_BARE = re.compile(rf"(?:\bconnect|^\W*link)\b{_NOT_WITH}")
# Connecting again: "reconnect", "re-auth my calendar", "log in to Google again",
# "refresh my calendar access", "my Outlook connection expired". As with
# "connect", "reconnect with my mentee" is a meeting.
_AGAIN = (
    r"re-?\s?(?:connect|link|auth\w*|sync|add|attach|grant|establish|enable|hook\s+up|integrate"
    r"|log\s*-?in|sign\s*-?in|login|signin|permission)"
)
_ACCESS = (
    rf"(?:{_CALENDAR}|access|permissions?|log\s*-?in|sign\s*-?in|connection|account|integration"
    r"|token|auth\w*)"
)
_RECONNECT_STRONG = re.compile(
    rf"\b{_AGAIN}\w*{_NOT_WITH}{_NEAR}{_ACCESS}"
    rf"|\b(?:connect|link|hook\s+up|authori[sz]e|log\s*-?in|sign\s*-?in|sync){_NOT_WITH}"
    rf"[^.?!]{{0,40}}?\bagain\b"
    r"|\b(?:fix|repair|refresh|renew|restore|redo|reset|reactivate|re-?enable)\b"
    rf"(?:\s+(?:my|our|the))?[^.?!]{{0,20}}?\b(?:{_CALENDAR}|access|permissions?|log\s*-?in"
    r"|sign\s*-?in|connection|integration|token|auth\w*)"
    rf"|\b(?:{_CALENDAR}|connection|access|token|login)[^.?!]{{0,30}}?\b(?:expired|broke|broken"
    r"|stopped\s+working|(?:is|isn'?t|not|is\s+not)\s+working|disconnected|unlinked|revoked|failing"
    r"|fails|keeps\s+failing|needs\s+(?:reconnecting|re-?auth\w*|re-?linking|refreshing))\b"
)
_RECONNECT_BARE = re.compile(rf"\b{_AGAIN}\w*\b{_NOT_WITH}")
# "Don't use my organisation calendar", "stop reading my work calendar", "opt out of the
# company calendar"; and back: "use my organisation calendar again", "opt back in".
_ORGANISATION = (
    r"(?:(?:my|our|the)\s+)?(?:organi[sz]ation(?:'?s|al)?|org|company(?:'?s)?|work|corporate"
    r"|employer(?:'?s)?)\s+(?:calendar|cal|connection)s?\b"
)
_ORGANISATION_OFF = re.compile(
    r"\b(?:don'?t|do\s+not|stop|no\s+longer|never|quit)\s+(?:use|using|read|reading|check"
    rf"|checking)\s+{_ORGANISATION}|\bopt(?:\s+me)?\s*-?\s*out\b[^.?!]{{0,20}}?{_ORGANISATION}"
)
_ORGANISATION_ON = re.compile(
    rf"\b(?:use|start\s+using|read|resume|go\s+back\s+to)\s+{_ORGANISATION}"
    rf"|\bopt(?:\s+me)?\s*-?\s*(?:back\s+)?in\b[^.?!]{{0,20}}?{_ORGANISATION}"
)
_SETTINGS = re.compile(
    r"\bsettings?\b|\brules\b|\bpreferences?\b|\bconfig(?:uration)?\b|\bpolic(?:y|ies)\b"
)
_HELP_QUESTION = re.compile(
    r"\bwhat\s+(?:else\s+)?(?:can|do)\s+(?:you|u|pairtime)\s+do\b"
    r"|\bhow\s+(?:does|do)\s+(?:this|it|pairtime|you)\s+work\b"
    r"|\bhow\s+(?:do\s+i|to)\s+use\b"
    r"|\bcommands\b|\busage\b|\bwho\s+are\s+you\b|\bwhat\s+(?:is\s+this|is\s+pairtime|are\s+you)\b"
)
_POLL = re.compile(r"\bpoll(?:s|ing)?\b|\bsurvey\b|\bvote\b|\bdoodle\b")
_CANCEL = re.compile(r"\b(?:cancel(?:led|ling)?|call\s+off|delete|remove|scrap)\b")
_MOVE = re.compile(
    r"\b(?:move|moving|reschedul\w*|re-?schedul\w*|postpone|push\s+back|bring\s+forward"
    r"|change\s+the\s+(?:time|day|date)\s+of|shift)\b"
)
_A_MEETING = re.compile(
    r"\b(?:meetings?|sessions?|calls?|1:1s?|1-1s?|catch\s?-?ups?|chats?|bookings?"
    r"|appointments?|mentoring)\b"
)
_MY_MEETINGS = re.compile(
    r"\b(?:my|upcoming|next|booked|scheduled)\s+(?:meetings|sessions|bookings|calls)\b"
    r"|\bwhat\s+(?:meetings|sessions|calls)\b"
    r"|\b(?:meetings|sessions)\s+(?:do\s+i\s+have|have\s+i\s+got|am\s+i\s+in)\b"
    r"|\b(?:list|show)\s+(?:me\s+)?(?:my\s+|the\s+)?(?:meetings|sessions|bookings)\b"
    r"|\bmy\s+(?:schedule|agenda)\b"
)
_FIND = re.compile(
    r"\b(?:find|finding|schedule|scheduling|book|booking|arrange|organi[sz]e|plan"
    r"|set\s?up|meet|meeting|meetings|call|chat|catch\s?-?up|sync|session|1:1|1-1|1on1"
    r"|one[\s-]on[\s-]one|slots?|free|available|availability|get\s+together|coffee"
    r"|when\s+(?:can|could|are|is|should|shall))\b"
)
_HELP = re.compile(r"\bhelp\b|\binstructions\b|\bmanual\b|\bguide\b|\bhow\s+do\s+i\b")
# Words that carry no request: what is left of "hi @pairtime, thanks!".
_PLEASANTRIES = re.compile(
    r"\b(?:hi|hey|hello|hiya|heya|yo|howdy|please|pls|plz|thanks|thank\s+you|thx|ty|cheers"
    r"|ok|okay|there|pairtime|bot|dear|sir|you)\b|[^\w?]+"
)


# "admin", "admin console", "open the admin console": the whole message, so that "who is
# my admin?" stays a question for help.
_ADMIN = re.compile(
    r"^\W*(?:(?:open|show)\s+(?:me\s+)?(?:the\s+)?)?admin(?:istration)?"
    r"(?:\s+(?:console|page|panel|sign\s?-?in|log\s?-?in|link))?\W*$"
)


# "forget me", "delete my data", "remove me from Pairtime": the speaker's own data, asked
# for in so many words (a calendar or a meeting removed is another request).
_FORGET_ME = re.compile(
    r"\b(?:forget|erase|delete|remove|wipe)\s+(?:all\s+(?:of\s+)?)?(?:"
    r"me\s+from\s+(?:pairtime|(?:the|this)\s+(?:program|programme|app|bot))\b"
    r"|me\b(?!\s*(?:from|in|out|of|on|to|for|at|as|with)\b)"
    r"|my\s+(?:personal\s+)?(?:data|account|profile)\b"
    r"|(?:everything|all)\s+(?:you\s+(?:know|have|hold|keep)\s+)?about\s+me\b)"
)


def asks_for_nothing(text: str) -> bool:
    """Whether ``text`` (normalised) holds no more than greetings and thanks."""
    return not _PLEASANTRIES.sub("", text).strip("?")


def names_a_meeting(text: str) -> bool:
    """Whether ``text`` (normalised) speaks of meeting or booking: "book Friday"."""
    return _FIND.search(text) is not None or _POLL.search(text) is not None


def intent_named(text: str, *, has_participants: bool) -> Intent | None:
    """The intent ``text`` (normalised) names by keyword, or None if it names none.

    The order settles overlaps: "is my calendar connected?" is a status
    question, not a connection; "create a poll to find a time" is a poll;
    "help me book a call" is a booking. Empty chatter, a lone "?" or greetings
    alone ask for help.
    """
    if asks_for_nothing(text):
        return Intent.HELP
    # The word itself first: it is rare, and stripping the pleasantries costs a pass.
    if "admin" in text and _ADMIN.search(_PLEASANTRIES.sub(" ", text)):
        return Intent.ADMIN
    if _FORGET_ME.search(text):
        return Intent.FORGET_ME
    # Before disconnecting and connecting, whose verbs ("stop using", "use") they share.
    choice = organisation_choice(text)
    if choice is not None:
        return choice
    if _DISCONNECT.search(text):
        return Intent.DISCONNECT
    if _MY_MEETINGS.search(text) and not has_participants:
        return Intent.MY_MEETINGS
    finding = _FIND.search(text) is not None
    if _RECONNECT_STRONG.search(text) or (
        not has_participants and not finding and _RECONNECT_BARE.search(text)
    ):
        return Intent.CONNECT
    if _STATUS.search(text):
        return Intent.STATUS
    if (
        _CONNECT_STRONG.search(text)
        or (not has_participants and _CONNECT_WEAK.search(text))
        or (not has_participants and not finding and _CONNECT_BARE.search(text))
    ):
        return Intent.CONNECT
    if _SETTINGS.search(text):
        return Intent.SETTINGS
    if _HELP_QUESTION.search(text):
        return Intent.HELP
    if _POLL.search(text):
        return Intent.POLL
    if finding:
        return Intent.FIND_TIME
    if _HELP.search(text):
        return Intent.HELP
    return None


def organisation_choice(text: str) -> Intent | None:
    """Opting out of (or back into) the organisation's reading of one's calendar.

    Read before negations are split off: "don't use my organisation calendar" is
    the request itself, not a clause ruling something out.
    """
    if _ORGANISATION_OFF.search(text):
        return Intent.ORGANISATION_OFF
    if _ORGANISATION_ON.search(text):
        return Intent.ORGANISATION_ON
    return None


POLL_CANCEL_HINT = "To cancel a poll, its organiser presses “Cancel poll” on it."


def unsupported_request(text: str) -> str | None:
    """A hint when ``text`` asks for something Pairtime does in another way: cancelling a
    poll is its button's job (without this, "cancel the poll" would ask for a new one)."""
    if _CANCEL.search(text) and _POLL.search(text) and not _DISCONNECT.search(text):
        return POLL_CANCEL_HINT
    return None


def meeting_change(text: str, *, has_participants: bool) -> Intent | None:
    """Cancelling or moving a meeting: "cancel my meeting with Sam", "reschedule our call to
    Thursday", "move it with @sam". Read before finding a time, which the same words
    ("meeting", "call") would otherwise ask for; a poll or a calendar is not a meeting."""
    if _DISCONNECT.search(text) or _POLL.search(text) or _FORGET_ME.search(text):
        return None
    about_a_meeting = has_participants or _A_MEETING.search(text) is not None
    if _CANCEL.search(text) and (about_a_meeting or _FIND.search(text) is None):
        return Intent.CANCEL_MEETING
    if _MOVE.search(text) and about_a_meeting:
        return Intent.MOVE_MEETING
    return None


def provider_named(text: str) -> Provider | None:
    """The calendar service ``text`` names first, if any."""
    found = [
        (match.start(), provider)
        for provider, pattern in _PROVIDERS
        if (match := pattern.search(text)) is not None
    ]
    return min(found)[1] if found else None
