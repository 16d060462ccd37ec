"""Words that are never a person's name in a request: "with Sam tomorrow" names Sam, not Tomorrow.

Kept apart because both the people grammar (``names``) and the report of
unread words (``leftovers``) need it. Lower case; a word not listed here
that follows "with" is taken for a name.
"""

from __future__ import annotations

from core.parsing.shorthand import SHORTHAND_WORDS

_FUNCTION_WORDS = """
a an the and or but nor if so as at by for from in into of off on onto out over to up upon with
within without about above after against along among around before behind below beside besides
between beyond despite down during except inside like near past per since than through throughout
till til toward towards under until via vs versus re regarding w/ w/o
i me my mine myself we us our ours ourselves you your yours yourself yourselves u ur he him his she
her hers it its itself they them their theirs this that these those who whom whose which what
whoever whatever whichever anyone anybody anything someone somebody something everyone everybody
everything nobody nothing none all both each either neither few many much more most other others
another some any every several such own same one ones no not nor only just also too very really
quite rather bit lot lots
"""
_VERBS = """
am is are was were be been being have has had having do does did doing done can could will would
shall should may might must need needs needed let lets get gets got go goes going gone come coming
make making take taking give giving find finding found book booking booked schedule scheduling
scheduled set setting setup arrange arranging organise organize organising organizing plan planning
meet meeting meetings met see seeing want wants wanted wanna gonna like love hope try trying check
checking put add adding use using sync syncing connect connecting link linking help helping show
tell know think say work works working talk talking speak speaking chat chatting catch catching
hang grab join joining attend discuss discussing review reviewing pair pairing poll polling ask
asking invite inviting include including ping cc remind send create creating start starting run
hold host keep leave stop cancel move reschedule confirm sort squeeze fit block reserve pencil
pick choose suggest offer propose look looking sit fix sounds sound works suit suits mind care
wonder wondering wish prefer thinking hoping planning trying free busy available around
"""
_SCHEDULING = """
time times slot slots call calls chat chats sync syncs session sessions one-on-one 1:1 1-1 1on1
catchup catch-up coffee coffees lunch breakfast dinner drinks tea walk standup stand-up retro
check-in checkin huddle intro introduction zoom teams slack hangout hangouts video phone room
office site desk remote online person irl calendar calendars cal availability diary agenda notes
notice buffer break breaks invitation invitations event events minutes minute mins min hour hours
hr hrs h m day days daily week weeks weekly month months monthly year years quarter half morning
mornings afternoon afternoons evening evenings night nights noon midday midnight lunchtime
today tonight tomorrow yesterday weekend weekends weekday weekdays fortnight next last this coming
following previous early earlier earliest late later latest soon sooner soonest asap sometime
sometimes anytime whenever now then once twice again ever never always usually still
please thanks thank thx ty cheers hi hey hello hiya heya yo howdy ok okay sure great cool
awesome perfect fine good ideally preferably maybe perhaps probably possibly hopefully definitely
quickly quick short long brief longer shorter here there group circle mentee mentees mentor
mentors partner partners program programme cohort bot pairtime when where why how whether
email mail message dm invite question thing things stuff topic project work job start end rest
beginning middle mid ish approx approximately about roughly exactly sharp latest
avoid avoiding skip skipping excluding exclude except excepting instead never minus apart
otherwise however though although unless because since whereas ideally
plenty enough room space flexibility details context camera cameras screen slides deck doc docs
link links recording transcript lunchbreak margin gap gaps
anyway actually basically kind sort lol haha a.m p.m am pm e.g i.e etc
monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays
fridays saturdays sundays mon tue tues wed weds thu thur thurs fri sat sun
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty
forty-five fifty sixty ninety couple few
google gmail outlook office microsoft exchange icloud apple ical hotmail workspace
""" + " ".join(SHORTHAND_WORDS)

NOT_NAMES = frozenset((_FUNCTION_WORDS + _VERBS + _SCHEDULING).split())
"""Lower-case words that never start or continue a person's name."""

NAME_OR_MONTH = frozenset({"april", "may", "june", "august", "jan", "will", "sat"})
"""Words that are also names: a name only when written with a capital after "with"."""

NAME_PARTICLES = frozenset(
    {"van", "von", "de", "da", "del", "della", "di", "du", "la", "le", "bin", "al", "el", "dos"}
)
"""Lower-case words inside a full name: "Jan van Dijk", "Maria de la Cruz"."""
