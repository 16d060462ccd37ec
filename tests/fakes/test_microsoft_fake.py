"""FakeMicrosoft speaks Entra ID and Graph, shown by driving it with msal and aiohttp.

msal is synchronous, so the fake runs in a ThreadedServer, over HTTPS because
msal accepts no other authority.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import msal
import pytest
import requests

from tests.fakes.microsoft import (
    DEFAULT_REDIRECT_URI,
    GRAPH_DEFAULT_SCOPE,
    PERSONAL_TENANT_ID,
    FakeEvent,
    FakeMicrosoft,
    WorkingHours,
    parse_form_post,
    trusting_session,
)
from tests.fakes.server import TestCertificate, ThreadedServer

UTC = dt.UTC
SCOPES = ["Calendars.Read", "User.Read"]
DAY = dt.datetime(2025, 3, 10, tzinfo=UTC)


def at(hour: float) -> dt.datetime:
    return DAY + dt.timedelta(hours=hour)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    return TestCertificate.create(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def fake() -> FakeMicrosoft:
    fake = FakeMicrosoft(next_account="ana@contoso.com")
    fake.set_events(
        "ana@contoso.com",
        [
            FakeEvent(at(9), at(10)),
            FakeEvent(at(10.5), at(11), show_as="tentative"),
            FakeEvent(at(13), at(14), show_as="free"),
            FakeEvent(at(15), at(16), show_as="workingElsewhere"),
            FakeEvent(dt.date(2025, 3, 11), dt.date(2025, 3, 12), show_as="oof", all_day=True),
        ],
    )
    fake.set_events(
        "ben@contoso.com",
        [
            FakeEvent(
                dt.datetime(2025, 3, 10, 14),
                dt.datetime(2025, 3, 10, 15),
                time_zone="Pacific Standard Time",
            )
        ],
    )
    fake.set_working_hours("ben@contoso.com", WorkingHours(time_zone="Eastern Standard Time"))
    return fake


@pytest.fixture
def base_url(fake: FakeMicrosoft, tls: TestCertificate) -> Iterator[str]:
    with ThreadedServer(fake.app, tls=tls) as base_url:
        yield base_url


@pytest.fixture
def http(tls: TestCertificate, base_url: str) -> Iterator[requests.Session]:
    # Closed before the server stops: a TLS connection still open when the server's loop
    # ends leaves a transport behind, and its ResourceWarning fails a later test.
    with trusting_session(tls) as session:
        yield session


@pytest.fixture
def new_app(
    fake: FakeMicrosoft, base_url: str, http: requests.Session
) -> Callable[..., msal.ConfidentialClientApplication]:
    def new_app(
        tenant: str = "common", cache: msal.TokenCache | None = None
    ) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            fake.client_id,
            client_credential=fake.client_secret,
            authority=f"{base_url}/{tenant}",
            instance_discovery=False,
            http_client=http,
            token_cache=cache,
        )

    return new_app


def sign_in(
    app: msal.ConfidentialClientApplication, http: requests.Session, scopes: list[str] = SCOPES
) -> dict[str, Any]:
    """The whole web flow: the browser visits auth_uri, and posts the answer back to us."""
    flow = app.initiate_auth_code_flow(
        scopes, redirect_uri=DEFAULT_REDIRECT_URI, response_mode="form_post"
    )
    page = http.get(flow["auth_uri"], allow_redirects=False, timeout=5)
    assert page.status_code == 200, page.text
    action, auth_response = parse_form_post(page.text)
    assert action == DEFAULT_REDIRECT_URI
    result: dict[str, Any] = app.acquire_token_by_auth_code_flow(flow, auth_response)
    return result


async def graph(
    tls: TestCertificate,
    method: str,
    url: str,
    token: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    deadline: float | None = None,
) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=deadline)) as session,
        session.request(
            method,
            url,
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            ssl=tls.client_context(),
        ) as response,
    ):
        return response.status, await response.json(), response.headers


def schedule_request(
    *schedules: str, hours: tuple[int, int] = (8, 12), **extra: Any
) -> dict[str, Any]:
    return {
        "schedules": list(schedules),
        "startTime": {"dateTime": f"2025-03-10T{hours[0]:02}:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": f"2025-03-10T{hours[1]:02}:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 60,
        **extra,
    }


async def test_auth_code_flow_with_pkce_and_nonce_gives_tokens_msal_accepts(
    fake, base_url, http, new_app, tls
):
    result = sign_in(new_app(), http)

    assert "error" not in result, result
    ana = fake.accounts["ana@contoso.com"]
    claims = result["id_token_claims"]
    assert claims["tid"] == fake.tenant_id
    assert claims["iss"] == f"{base_url}/{fake.tenant_id}/v2.0"
    assert claims["preferred_username"] == "ana@contoso.com"
    assert claims["oid"] == ana.object_id
    authorize = fake.calls_to("authorize")[0].query
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["client_info"] == "1"
    assert claims["nonce"] == authorize["nonce"]  # msal sends and checks a hash of its nonce
    redeem = fake.calls_to("token")[0]
    assert redeem.form["grant_type"] == "authorization_code"
    assert len(redeem.form["code_verifier"]) == 43
    assert redeem.headers["X-AnchorMailbox"] == f"Oid:{ana.object_id}@{fake.tenant_id}"
    discovery = fake.calls_to("openid-configuration")
    assert discovery[0].path == "/common/v2.0/.well-known/openid-configuration"

    keys = http.get(f"{base_url}/common/discovery/v2.0/keys", timeout=5).json()
    signing_key = jwt.PyJWKSet.from_dict(keys).keys[0]
    verified = jwt.decode(
        result["id_token"], signing_key.key, algorithms=["RS256"], audience=fake.client_id
    )
    assert verified["sub"] == ana.pairwise_sub

    status, me, _ = await graph(tls, "GET", f"{base_url}/v1.0/me", result["access_token"])
    assert status == 200
    assert me["userPrincipalName"] == "ana@contoso.com"
    assert me["mail"] == "ana@contoso.com"
    assert me["id"] == ana.object_id


def test_silent_refresh_from_a_persisted_cache_after_expiry(fake, http, new_app):
    fake.expires_in = 120  # msal treats tokens with under five minutes left as expired
    cache = msal.SerializableTokenCache()
    first = sign_in(new_app(cache=cache), http)
    persisted = cache.serialize()

    restored = msal.SerializableTokenCache()
    restored.deserialize(persisted)
    app = new_app(cache=restored)
    [account] = app.get_accounts()
    assert account["username"] == "ana@contoso.com"
    ana = fake.accounts["ana@contoso.com"]
    assert account["home_account_id"] == f"{ana.object_id}.{fake.tenant_id}"
    again = app.acquire_token_silent(SCOPES, account=account)

    assert again is not None
    assert again["token_source"] == "identity_provider"
    assert again["access_token"] != first["access_token"]
    refresh = fake.calls_to("token")[-1].form
    assert refresh["grant_type"] == "refresh_token"
    assert restored.has_state_changed  # the rotated refresh token is there to persist


def test_revoked_refresh_tokens_come_back_as_invalid_grant(fake, http, new_app):
    app = new_app()
    sign_in(app, http)
    [account] = app.get_accounts()

    fake.revoke_all("ana@contoso.com")
    result = app.acquire_token_silent_with_error(SCOPES, account=account, force_refresh=True)

    assert result is not None
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50173]
    assert result["error_description"].startswith("AADSTS50173: ")


def test_denied_consent_reaches_msal_as_access_denied(fake, http, new_app):
    fake.deny_next_consent()

    result = sign_in(new_app(), http)

    assert result["error"] == "access_denied"
    assert result["error_description"].startswith("AADSTS65004")
    assert fake.calls_to("token") == []


def test_an_unknown_tenant_fails_discovery(fake, new_app):
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        new_app(tenant="no-such-tenant.example")
    assert fake.calls_to("openid-configuration")[0].path == (
        "/no-such-tenant.example/v2.0/.well-known/openid-configuration"
    )


def test_the_sign_in_page_turns_away_accounts_the_authority_does_not_take(fake, http, new_app):
    fake.next_account = "sam@outlook.com"
    flow = new_app(tenant="organizations").initiate_auth_code_flow(
        SCOPES, redirect_uri=DEFAULT_REDIRECT_URI, response_mode="form_post"
    )

    page = http.get(flow["auth_uri"], timeout=5)

    assert page.status_code == 400
    assert "personal account" in page.text


def test_a_wrong_code_verifier_is_refused(fake, http, new_app):
    app = new_app()
    flow = app.initiate_auth_code_flow(
        SCOPES, redirect_uri=DEFAULT_REDIRECT_URI, response_mode="form_post"
    )
    _, auth_response = parse_form_post(http.get(flow["auth_uri"], timeout=5).text)
    flow["code_verifier"] = "x" * 43

    result = app.acquire_token_by_auth_code_flow(flow, auth_response)

    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [501481]


async def test_client_credentials_read_colleagues_schedules(fake, base_url, new_app, tls):
    result = new_app(tenant=fake.tenant_id).acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert "access_token" in result, result
    assert fake.calls_to("token")[0].form["grant_type"] == "client_credentials"

    url = f"{base_url}/v1.0/users/ana@contoso.com/calendar/getSchedule"
    body = schedule_request("ana@contoso.com", "ben@contoso.com", "eve@fabrikam.com", hours=(8, 23))
    status, answer, headers = await graph(
        tls,
        "POST",
        url,
        result["access_token"],
        json=body,
        headers={"Prefer": 'outlook.timezone="W. Europe Standard Time"'},
    )

    assert status == 200
    assert headers["Preference-Applied"] == 'outlook.timezone="W. Europe Standard Time"'
    ana, ben, eve = answer["value"]
    # Hourly slots from 08:00 UTC: busy at 9, tentative at 10; free and elsewhere count as 0.
    assert ana["availabilityView"] == "021000000000000"
    assert [(i["status"], i["start"]["dateTime"]) for i in ana["scheduleItems"]] == [
        ("busy", "2025-03-10T10:00:00.0000000"),
        ("tentative", "2025-03-10T11:30:00.0000000"),
        ("free", "2025-03-10T14:00:00.0000000"),
        ("workingElsewhere", "2025-03-10T16:00:00.0000000"),
    ]
    assert ana["scheduleItems"][0]["start"]["timeZone"] == "W. Europe Standard Time"
    assert ana["workingHours"] == {
        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "startTime": "08:00:00.0000000",
        "endTime": "17:00:00.0000000",
        "timeZone": {"name": "Pacific Standard Time"},
    }
    # 14:00 Pacific daylight time is 21:00 UTC.
    assert ben["availabilityView"][13] == "2"
    assert ben["workingHours"]["timeZone"] == {"name": "Eastern Standard Time"}
    assert eve == {
        "scheduleId": "eve@fabrikam.com",
        "error": {
            "message": "Unable to resolve e-mail address eve@fabrikam.com to an Active "
            "Directory object.",
            "responseCode": "5009",
        },
    }


def test_client_credentials_need_a_tenant_and_a_default_scope(fake, new_app):
    with pytest.warns(DeprecationWarning, match="Please use a specific tenant"):
        on_common = new_app().acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert on_common["error_codes"] == [50059]

    not_default = new_app(tenant=fake.tenant_domain).acquire_token_for_client(
        ["https://graph.microsoft.com/Calendars.Read"]
    )
    assert not_default["error"] == "invalid_scope"
    assert not_default["error_codes"] == [1002012]


async def test_get_schedule_enforces_20_schedules_and_under_62_days(fake, base_url, tls):
    token = fake.issue_access_token("ana@contoso.com")
    url = f"{base_url}/v1.0/me/calendar/getSchedule"

    many = schedule_request(*(f"user{i}@contoso.com" for i in range(21)))
    status, body, _ = await graph(tls, "POST", url, token, json=many)
    assert status == 400
    assert body["error"]["code"] == "ErrorInvalidParameter"

    too_long = {
        "schedules": ["ana@contoso.com"],
        "startTime": {"dateTime": "2025-03-01T00:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2025-05-02T00:00:00", "timeZone": "UTC"},
    }
    status, body, _ = await graph(tls, "POST", url, token, json=too_long)
    assert status == 400
    assert body["error"]["code"] == "ErrorTimeIntervalTooBig"
    assert set(body["error"]["innerError"]) == {"date", "request-id", "client-request-id"}

    elsewhere = {**too_long, "endTime": {"dateTime": "2025-03-02T00:00:00", "timeZone": "Mars"}}
    status, body, _ = await graph(tls, "POST", url, token, json=elsewhere)
    assert status == 400
    assert body["error"]["code"] == "TimeZoneNotSupportedException"
    assert "'Mars'" in body["error"]["message"]

    just_fits = {**too_long, "endTime": {"dateTime": "2025-05-01T23:59:00", "timeZone": "UTC"}}
    status, body, _ = await graph(tls, "POST", url, token, json=just_fits)
    assert status == 200
    assert len(body["value"][0]["availabilityView"]) == 2 * 24 * 62  # 30-minute slots


async def test_personal_accounts_get_no_schedule_but_a_paged_calendar_view(
    fake, base_url, http, new_app, tls
):
    fake.next_account = "sam@outlook.com"
    fake.page_size = 10
    fake.set_events(
        "sam@outlook.com",
        [FakeEvent(at(h), at(h + 0.5), subject=f"Event {h}") for h in range(8, 19)]
        + [FakeEvent(dt.date(2025, 3, 10), dt.date(2025, 3, 11), all_day=True, show_as="free")],
    )
    result = sign_in(new_app(), http)
    assert result["id_token_claims"]["tid"] == PERSONAL_TENANT_ID
    token = result["access_token"]

    status, body, _ = await graph(
        tls,
        "POST",
        f"{base_url}/v1.0/me/calendar/getSchedule",
        token,
        json=schedule_request("sam@outlook.com"),
    )
    assert status == 400
    assert body["error"]["code"] == fake.personal_get_schedule_error.code

    params = {
        "startDateTime": "2025-03-10T00:00:00Z",
        "endDateTime": "2025-03-11T00:00:00Z",
        "$select": "start,end,showAs,isAllDay",
    }
    prefer = {"Prefer": 'outlook.timezone="UTC"'}
    url = f"{base_url}/v1.0/me/calendarView"
    status, first, _ = await graph(tls, "GET", url, token, params=params, headers=prefer)
    assert status == 200
    assert len(first["value"]) == 10
    assert set(first["value"][0]) == {"@odata.etag", "id", "start", "end", "showAs", "isAllDay"}
    assert first["value"][0]["isAllDay"] is True  # midnight sorts first
    assert first["value"][0]["start"] == {
        "dateTime": "2025-03-10T00:00:00.0000000",
        "timeZone": "UTC",
    }
    assert first["value"][1]["end"] == {
        "dateTime": "2025-03-10T08:30:00.0000000",
        "timeZone": "UTC",
    }

    status, second, _ = await graph(tls, "GET", first["@odata.nextLink"], token, headers=prefer)
    assert status == 200
    assert [e["start"]["dateTime"][11:16] for e in second["value"]] == ["17:00", "18:00"]
    assert "@odata.nextLink" not in second
    assert "subject" not in second["value"][0]  # $select carried through the next link

    status, me, _ = await graph(tls, "GET", f"{base_url}/v1.0/me", token)
    assert me["mail"] is None
    assert me["userPrincipalName"] == "sam@outlook.com"


async def test_calendar_view_needs_a_time_window(fake, base_url, tls):
    token = fake.issue_access_token("ana@contoso.com")
    status, body, _ = await graph(tls, "GET", f"{base_url}/v1.0/me/calendarView", token)
    assert status == 400
    assert body["error"]["code"] == "ErrorInvalidParameter"


async def test_graph_answers_401_for_missing_unknown_and_expired_tokens(fake, base_url, tls):
    expired = fake.issue_access_token("ana@contoso.com")
    fake.expire_access_tokens()
    url = f"{base_url}/v1.0/me"

    for token, message in [
        ("", "Access token is empty."),
        ("not-a-token", "IDX14100"),
        (expired, "Lifetime validation failed, the token is expired."),
    ]:
        status, body, headers = await graph(tls, "GET", url, token)
        assert status == 401
        assert body["error"]["code"] == "InvalidAuthenticationToken"
        assert body["error"]["message"].startswith(message)
        assert headers["WWW-Authenticate"].startswith("Bearer")


async def test_app_tokens_cannot_use_me(fake, base_url, tls):
    status, body, _ = await graph(tls, "GET", f"{base_url}/v1.0/me", fake.issue_app_token())
    assert status == 400
    assert (
        body["error"]["message"] == "/me request is only valid with delegated authentication flow."
    )


async def test_throttling_and_outages_then_recovery(fake, base_url, tls):
    token = fake.issue_access_token("ana@contoso.com")
    fake.fail_next(429, retry_after=3)
    fake.fail_next(503, on="getSchedule")
    url = f"{base_url}/v1.0/me/calendar/getSchedule"
    body = schedule_request("ana@contoso.com")

    outcomes = [await graph(tls, "POST", url, token, json=body) for _ in range(3)]

    assert [status for status, _, _ in outcomes] == [429, 503, 200]
    assert outcomes[0][2]["Retry-After"] == "3"
    assert outcomes[0][1]["error"]["code"] == "TooManyRequests"
    assert outcomes[1][1]["error"]["code"] == "serviceNotAvailable"


async def test_latency_makes_a_client_time_out(fake, base_url, tls):
    token = fake.issue_access_token("ana@contoso.com")
    fake.delay_next(0.5, on="getSchedule")
    url = f"{base_url}/v1.0/me/calendar/getSchedule"
    body = schedule_request("ana@contoso.com")

    with pytest.raises(TimeoutError):
        await graph(tls, "POST", url, token, json=body, deadline=0.1)
    fake.latency = 0.2
    started = time.monotonic()
    status, _, _ = await graph(tls, "POST", url, token, json=body)
    assert status == 200
    assert time.monotonic() - started >= 0.2


async def test_calendar_view_reports_cancelled_declined_away_and_expanded_series(
    fake, base_url, tls
):
    fake.set_events(
        "ana@contoso.com",
        [
            FakeEvent(
                dt.datetime(2025, 3, 10, 9),  # 08:00 UTC
                dt.datetime(2025, 3, 10, 10),
                time_zone="W. Europe Standard Time",
                recurrence="FREQ=DAILY;COUNT=3",
                subject="Stand-up",
            ),
            FakeEvent(at(11), at(12), is_cancelled=True),
            FakeEvent(at(13), at(14), response="declined"),
            FakeEvent(at(15), at(16), show_as="oof"),
            FakeEvent(dt.date(2025, 3, 11), dt.date(2025, 3, 12), all_day=True, show_as="free"),
        ],
    )
    token = fake.issue_access_token("ana@contoso.com", ["Calendars.ReadBasic"])
    params = {
        "startDateTime": "2025-03-10T00:00:00Z",
        "endDateTime": "2025-03-13T00:00:00Z",
        "$select": "start,end,showAs,isAllDay,isCancelled,responseStatus",
        "$top": "100",
    }
    status, body, headers = await graph(
        tls,
        "GET",
        f"{base_url}/v1.0/me/calendarView",
        token,
        params=params,
        headers={"Prefer": 'outlook.timezone="UTC"'},
    )
    assert status == 200
    assert headers["Preference-Applied"] == 'outlook.timezone="UTC"'
    events = body["value"]
    assert all("subject" not in e and "bodyPreview" not in e for e in events)
    stand_ups = [e for e in events if e["start"]["dateTime"].endswith("08:00:00.0000000")]
    assert [e["start"]["dateTime"][:10] for e in stand_ups] == [
        "2025-03-10", "2025-03-11", "2025-03-12"
    ]  # fmt: skip
    cancelled = next(e for e in events if e["isCancelled"])
    assert cancelled["start"]["dateTime"] == "2025-03-10T11:00:00.0000000"
    declined = next(e for e in events if e["responseStatus"]["response"] == "declined")
    assert declined["start"]["dateTime"] == "2025-03-10T13:00:00.0000000"
    assert next(e for e in events if e["showAs"] == "oof")["isAllDay"] is False
    all_day = next(e for e in events if e["isAllDay"])
    assert all_day["showAs"] == "free"
    assert all_day["start"] == {"dateTime": "2025-03-11T00:00:00.0000000", "timeZone": "UTC"}

    status, body, _ = await graph(
        tls, "POST", f"{base_url}/v1.0/me/calendar/getSchedule", token,
        json=schedule_request("ana@contoso.com", hours=(8, 16)),
    )  # fmt: skip
    items = body["value"][0]["scheduleItems"]
    assert [i["start"]["dateTime"][11:16] for i in items] == ["08:00", "15:00"]


async def test_a_scripted_answer_of_another_shape_reaches_the_client(fake, base_url, tls):
    token = fake.issue_access_token("ana@contoso.com")
    fake.answer_next('{"value": "not a list"}', on="calendarView")
    params = {"startDateTime": "2025-03-10T00:00:00Z", "endDateTime": "2025-03-11T00:00:00Z"}
    url = f"{base_url}/v1.0/me/calendarView"
    status, body, _ = await graph(tls, "GET", url, token, params=params)
    assert (status, body) == (200, {"value": "not a list"})
    status, body, _ = await graph(tls, "GET", url, token, params=params)
    assert isinstance(body["value"], list)
