"""Microsoft 365 (Exchange Online) app-only: msal's client-credentials grant, then Graph's
``/users/{upn}/calendarView`` for each covered person, parsed as personal connections are,
sent as JSON batches of up to 20 people (``POST /$batch``; a 429 inside a batch is asked
again after its own ``Retry-After``).

The app registration holds the application permission ``Calendars.ReadBasic`` (or
``Calendars.Read``), consented once by a tenant admin at ``/adminconsent``. Such a
permission reaches every mailbox of the tenant until Exchange's RBAC for Applications
(or an application access policy) narrows it: a mailbox outside that scope answers 403
``ErrorAccessDenied``, which means "not covered", not an outage. When the program
account, which was readable when the connection was made, is refused too, the consent
itself is gone. The client authenticates with a secret or with a certificate (msal signs
its assertion with the private key).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import aiohttp
import msal
import requests

from adapters.calendars.config import CalendarSettings
from adapters.calendars.errors import ProviderError
from adapters.calendars.http import RETRYABLE, Deadline, Reply, request_json, retry_after
from adapters.calendars.microsoft import (
    GraphRefused,
    Unauthorized,
    calendar_view,
    view_page,
    view_query,
)
from adapters.calendars.organisation import base
from adapters.calendars.organisation.writing import GrantWithdrawn, graph_write
from core.calendars import BusyTimes
from core.errors import PublishRefused
from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    Verified,
    normalised_domain,
)
from core.people import PersonId
from core.publishing import ProgramEvent, PublishedEvent
from core.time import Interval
from storage.repositories.organisations import StoredOrganisation

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
BATCH = 20  # requests in one JSON batch: Graph's limit
FIRST_WAIT = 0.2  # seconds before asking again an answer that gave no Retry-After
# The app's own credentials are refused or gone: every read through it would fail.
WITHDRAWN = frozenset({"invalid_client", "unauthorized_client", "invalid_grant"})
# A mailbox the app may not read, or that does not exist: that person is not covered.
NOT_COVERED = frozenset({"ErrorAccessDenied", "ErrorInvalidUser", "MailboxNotEnabledForRESTAPI"})


class Microsoft365(base.OrganisationClient):
    provider = OrgProvider.MICROSOFT

    def __init__(
        self, settings: CalendarSettings, http: aiohttp.ClientSession, base_url: str
    ) -> None:
        super().__init__(settings)
        self._http = http
        self._base_url = base_url
        self._requests = requests.Session()
        if settings.ca_bundle:
            # With trust_env, REQUESTS_CA_BUNDLE would silently replace this.
            self._requests.verify = settings.ca_bundle
            self._requests.trust_env = False
        # One msal app per connection: it keeps the app token until it expires.
        self._apps: dict[tuple[str, str, datetime], Any] = {}

    async def close(self) -> None:
        self._requests.close()

    def consent_url(self, setup: OrganisationSetup) -> str | None:
        query = urlencode(
            {"client_id": setup.settings["client_id"], "redirect_uri": f"{self._base_url}/"}
        )
        tenant = quote(setup.settings["tenant"], safe="")
        return f"{self._settings.microsoft_authority_url}/{tenant}/adminconsent?{query}"

    # ---------------------------------------------------------------- connecting

    async def verify(self, setup: OrganisationSetup) -> Verified:
        secret = json.loads(setup.secret.reveal())
        try:
            app = await self._new_app(setup.settings, secret)
            token = await self._token(app)
        except ProviderError as error:
            raise OrganisationRefused(f"Microsoft refused the app ({error})") from None
        account = setup.program_account
        try:
            await calendar_view(
                self._http,
                self._mailbox(account),
                token,
                zone=ZoneInfo("UTC"),
                window=self._probe_window(),
                deadline=Deadline.after(self._settings.timeout_seconds),
            )
        except GraphRefused as error:
            if error.code == "ErrorAccessDenied":
                raise OrganisationRefused(
                    f"Graph refused to read {account}'s calendar: grant admin consent at the "
                    "URL above, and include the program account in the app's RBAC scope"
                ) from None
            raise OrganisationRefused(
                f"Graph could not read {account}'s calendar ({error})"
            ) from None
        except ProviderError as error:
            raise OrganisationRefused(
                f"Graph could not read {account}'s calendar ({error})"
            ) from None
        domains = setup.domains or await self._verified_domains(token)
        return Verified(domains, can_write=setup.write)

    async def _verified_domains(self, token: str) -> tuple[str, ...]:
        reply = await request_json(
            self._http,
            "GET",
            f"{self._settings.microsoft_graph_url}/organization?$select=verifiedDomains",
            deadline=Deadline.after(self._settings.timeout_seconds),
            service="Microsoft",
            headers={"Authorization": f"Bearer {token}"},
        )
        if reply.status != 200 or not isinstance(reply.data, dict):
            raise OrganisationRefused(
                "Graph did not list the tenant's verified domains (the app needs "
                "Organization.Read.All for that): give them with --domain"
            )
        names = [
            normalised_domain(str(domain.get("name", "")))
            for organisation in reply.data.get("value", [])
            for domain in organisation.get("verifiedDomains", [])
        ]
        return tuple(name for name in names if name)

    # ---------------------------------------------------------------- reading

    async def read(self, asked: base.OrgRead) -> Mapping[PersonId, base.OrgResult]:
        stored, readings, deadline = asked.stored, asked.readings, asked.deadline
        summary = stored.summary
        key = (summary.program, stored.settings.get("client_id", ""), summary.connected_at)
        results: list[base.OrgResult | BaseException] = []
        for attempt in range(2):
            token = await self._app_token(key, stored)
            chunks = [readings[i : i + BATCH] for i in range(0, len(readings), BATCH)]
            batches = await asyncio.gather(
                *(
                    self._bounded(self._read_batch(token, chunk, asked.window, deadline), deadline)
                    for chunk in chunks
                ),
                return_exceptions=True,
            )
            results = []
            for chunk, batch in zip(chunks, batches, strict=True):
                results += batch if isinstance(batch, list) else [batch] * len(chunk)
            if attempt or not any(isinstance(r, _TokenRefused) for r in results):
                break
            # Graph refused a token msal still trusted (expired early, or revoked): a new
            # one, once, tells a passing hiccup from a withdrawn grant.
            self._apps.pop(key, None)
        found = base.per_person(readings, results, "Microsoft")
        if found and all(isinstance(r, base.NotCovered | _TokenRefused) for r in found.values()):
            # Everyone refused: is the consent gone? The program account was readable.
            probe = await self._read_one(
                token, base.OrgReading(PersonId(""), summary.program_account, ZoneInfo("UTC")),
                asked.window, deadline,
            )  # fmt: skip
            if isinstance(probe, base.NotCovered | _TokenRefused):
                self._apps.pop(key, None)
                raise base.AccessWithdrawn("Graph refused every mailbox, the program account's too")
        return found

    async def _app_token(self, key: tuple[str, str, datetime], stored: StoredOrganisation) -> str:
        app = self._apps.get(key)
        if app is None:
            app = self._apps[key] = await self._new_app(stored.settings, stored.secret)
        try:
            return await self._token(app)
        except _Refused as error:
            self._apps.pop(key, None)
            if error.code in WITHDRAWN:
                raise base.AccessWithdrawn(str(error)) from None
            raise

    async def _read_batch(
        self, token: str, readings: Sequence[base.OrgReading], window: Interval, deadline: Deadline
    ) -> list[base.OrgResult]:
        """Up to 20 people's calendarView in one JSON batch (``POST /$batch``). Answers of
        429 or 5xx inside it are asked again in the next batch, after the longest
        ``Retry-After`` they gave (never past the deadline); a person with more than one
        page of events is read on their own."""
        pending = {str(i): reading for i, reading in enumerate(readings)}
        found: dict[str, base.OrgResult] = {}
        backoff = FIRST_WAIT
        query = view_query(window)
        while pending:
            body = {
                "requests": [
                    {
                        "id": key,
                        "method": "GET",
                        "url": f"/users/{quote(r.email, safe='@')}/calendarView?{query}",
                        "headers": {"Prefer": 'outlook.timezone="UTC"'},
                    }
                    for key, r in pending.items()
                ]
            }
            try:
                reply = await request_json(
                    self._http, "POST", f"{self._settings.microsoft_graph_url}/$batch",
                    deadline=deadline, service="Microsoft",
                    headers={"Authorization": f"Bearer {token}"}, json=body,
                )  # fmt: skip
            except ProviderError as error:
                found |= dict.fromkeys(pending, error)
                break
            answers = reply.data.get("responses") if isinstance(reply.data, dict) else None
            if reply.status != 200 or not isinstance(answers, list):
                failed: ProviderError = (
                    _TokenRefused("Microsoft refused the app's token")
                    if reply.status == 401
                    else ProviderError(f"Microsoft answered {reply.status} to a batch")
                )
                found |= dict.fromkeys(pending, failed)
                break
            again: dict[str, base.OrgReading] = {}
            waits: list[float] = []
            for answer in answers:
                key = str(answer.get("id")) if isinstance(answer, dict) else ""
                reading = pending.get(key)
                if reading is None or key in found:
                    continue
                status = int(answer.get("status", 0))
                if status in RETRYABLE:
                    headers = {k.lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
                    asked = retry_after(headers.get("retry-after"))
                    waits.append(asked if asked is not None else backoff)
                    again[key] = reading
                    continue
                found[key] = await self._answered(
                    token, reading, Reply(status, answer.get("body")), window, deadline
                )
            for key in pending:
                if key not in found and key not in again:
                    found[key] = ProviderError("Microsoft left a read of the batch unanswered")
            pending = again
            if pending:
                wait = max(waits)
                if wait >= deadline.remaining():
                    busy = ProviderError("Microsoft is busy or unavailable right now")
                    found |= dict.fromkeys(pending, busy)
                    break
                await asyncio.sleep(wait)
                backoff *= 2
        return [found[str(i)] for i in range(len(readings))]

    async def _answered(
        self,
        token: str,
        reading: base.OrgReading,
        reply: Reply,
        window: Interval,
        deadline: Deadline,
    ) -> base.OrgResult:
        """One person's answer inside a batch, judged as a single read's."""
        try:
            busy, more = view_page(reply, reading.zone)
        except ProviderError as error:
            return _judged(error)
        if more is not None:  # more than a page of events: read this one whole, alone
            return await self._read_one(token, reading, window, deadline)
        return BusyTimes(tuple(busy))

    async def _read_one(
        self, token: str, reading: base.OrgReading, window: Interval, deadline: Deadline
    ) -> base.OrgResult:
        try:
            return await calendar_view(
                self._http,
                self._mailbox(reading.email),
                token,
                zone=reading.zone,
                window=window,
                deadline=deadline,
            )
        except ProviderError as error:
            return _judged(error)

    # ---------------------------------------------------------------- writing

    async def write(
        self, stored: StoredOrganisation, event: ProgramEvent, previous: PublishedEvent | None
    ) -> PublishedEvent | None:
        """The meeting in the program account's mailbox (``Calendars.ReadWrite``, scoped by
        RBAC for Applications to that mailbox; see ``writing.graph_write``)."""
        summary = stored.summary
        key = (summary.program, stored.settings.get("client_id", ""), summary.connected_at)
        try:
            token = await self._app_token(key, stored)
        except base.AccessWithdrawn as error:
            raise GrantWithdrawn(str(error)) from None
        except ProviderError as error:
            raise PublishRefused(str(error)) from None
        try:
            return await graph_write(
                self._http, self._mailbox(summary.program_account), token, event, previous
            )
        except PublishRefused as error:
            if not error.permanent:  # perhaps a token Graph stopped honouring: a new one next
                self._apps.pop(key, None)
            raise

    def _mailbox(self, email: str) -> str:
        return f"{self._settings.microsoft_graph_url}/users/{quote(email, safe='@')}"

    async def _new_app(self, settings: Mapping[str, str], secret: Mapping[str, Any]) -> Any:
        credential: Any
        if secret.get("private_key"):
            credential = {
                "private_key": secret["private_key"],
                "public_certificate": settings["certificate"],
            }
        else:
            credential = secret["client_secret"]
        try:
            # Building the app fetches the authority's metadata: off the loop, and bounded.
            return await asyncio.wait_for(
                asyncio.to_thread(
                    msal.ConfidentialClientApplication,
                    settings["client_id"],
                    client_credential=credential,
                    authority=f"{self._settings.microsoft_authority_url}/{settings['tenant']}",
                    http_client=self._requests,
                    instance_discovery=False,
                    timeout=self._settings.timeout_seconds,
                ),
                self._settings.timeout_seconds,
            )
        except TimeoutError:
            raise ProviderError("Microsoft's sign-in service did not answer in time") from None
        except ValueError as error:  # msal's answer to an unknown tenant, a bad key
            raise _Refused("invalid_request", str(error).split("\n")[0][:200]) from None
        except requests.RequestException:
            raise ProviderError("Microsoft's sign-in service could not be reached") from None

    async def _token(self, app: Any) -> str:
        try:
            result = await asyncio.wait_for(
                asyncio.to_thread(app.acquire_token_for_client, [GRAPH_DEFAULT]),
                self._settings.timeout_seconds,
            )
        except TimeoutError:
            raise ProviderError("Microsoft's sign-in service did not answer in time") from None
        except requests.RequestException:
            raise ProviderError("Microsoft's sign-in service could not be reached") from None
        if "access_token" not in result:
            description = str(result.get("error_description", "")).split("\n")[0]
            raise _Refused(str(result.get("error", "refused")), description[:200])
        return str(result["access_token"])

    def forget(self, connection: OrganisationConnection) -> None:
        for key in [k for k in self._apps if k[0] == connection.program]:
            del self._apps[key]


def _judged(error: ProviderError) -> base.OrgResult:
    """A person's read that failed: not covered by the grant, the app's token refused (got
    again once, by the caller), or the error as it is."""
    if isinstance(error, GraphRefused) and (error.code in NOT_COVERED or error.status == 404):
        return base.NotCovered()
    if isinstance(error, Unauthorized):
        return _TokenRefused("Microsoft refused the app's token")
    return error


class _TokenRefused(ProviderError):
    """Graph answered 401 to the app's token."""


class _Refused(ProviderError):
    """The identity platform refused the app; ``code`` is its OAuth error."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
