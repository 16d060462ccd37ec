"""FakeGoogle speaks Google's protocols, shown by driving it with google-auth and aiohttp.

google-auth and oauthlib call the fake synchronously (through requests), so
those tests serve it from a ThreadedServer; the Calendar calls use aiohttp as
Pairtime will.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import google.auth.transport.requests
import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2 import id_token, service_account
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from tests.fakes.google import (
    DEFAULT_CLIENT_ID,
    DEFAULT_REDIRECT_URI,
    FREEBUSY_SCOPE,
    USERINFO_EMAIL,
    FakeGoogle,
)
from tests.fakes.server import ThreadedServer, running

UTC = dt.UTC
SCOPES = ["openid", USERINFO_EMAIL, FREEBUSY_SCOPE]
DAY = dt.datetime(2025, 3, 10, tzinfo=UTC)


def at(hour: float) -> dt.datetime:
    return DAY + dt.timedelta(hours=hour)


@pytest.fixture
def fake() -> FakeGoogle:
    fake = FakeGoogle(next_account="ana@example.com")
    fake.set_busy("ana@example.com", [(at(9), at(10)), (at(9.5), at(11)), (at(23), at(25))])
    fake.set_busy("ben@example.com", [(at(14), at(15))])
    fake.set_busy("cleo@gmail.com", [(at(8), at(9))])
    return fake


@pytest.fixture
def base_url(fake: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake is plain http
    with ThreadedServer(fake.app) as base_url:
        yield base_url


@pytest.fixture
def new_flow(fake: FakeGoogle, base_url: str) -> Iterator[Callable[..., Flow]]:
    """Builds Flows for the fake, and closes their requests sessions (open sockets would warn)."""
    flows: list[Flow] = []

    def new_flow(scopes: list[str] = SCOPES, redirect_uri: str = DEFAULT_REDIRECT_URI) -> Flow:
        flow = Flow.from_client_config(
            fake.client_config(base_url), scopes=scopes, redirect_uri=redirect_uri
        )
        flows.append(flow)
        return flow

    yield new_flow
    for flow in flows:
        flow.oauth2session.close()


def transport() -> google.auth.transport.requests.Request:
    return google.auth.transport.requests.Request()


def follow_consent(authorization_url: str) -> dict[str, str]:
    """What a browser would do: visit the consent URL, return the redirect's query."""
    response = requests.get(authorization_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(DEFAULT_REDIRECT_URI)
    return dict(parse_qsl(urlsplit(location).query))


def signed_in(new_flow: Callable[..., Flow], **authorization: str) -> Credentials:
    flow = new_flow()
    url, state = flow.authorization_url(**authorization)
    answer = follow_consent(url)
    assert answer["state"] == state
    flow.fetch_token(code=answer["code"])
    credentials: Credentials = flow.credentials
    return credentials


def delegated(info: dict[str, Any], scopes: list[str], subject: str) -> service_account.Credentials:
    """A service account acting for ``subject`` (domain-wide delegation)."""
    made: service_account.Credentials = service_account.Credentials.from_service_account_info(
        info, scopes=scopes, subject=subject
    )  # type: ignore[no-untyped-call]  # google-auth leaves it untyped
    return made


def refresh(credentials: Credentials | service_account.Credentials) -> None:
    credentials.refresh(transport())  # type: ignore[no-untyped-call]  # google-auth leaves it untyped


def access_token(credentials: Credentials | service_account.Credentials) -> str:
    token = credentials.token
    assert isinstance(token, str)
    return token


async def free_busy(base_url: str, token: str, body: dict[str, Any]) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base_url}/calendar/v3/freeBusy",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        return response.status, await response.json(), response.headers


def day_query(*ids: str, **extra: Any) -> dict[str, Any]:
    return {
        "timeMin": "2025-03-10T00:00:00Z",
        "timeMax": "2025-03-11T00:00:00Z",
        "items": [{"id": i} for i in ids],
        **extra,
    }


async def test_web_flow_with_pkce_gives_tokens_an_id_token_and_free_busy(fake, base_url, new_flow):
    credentials = signed_in(new_flow, access_type="offline", prompt="consent")

    authorize = fake.calls_to("authorize")[0].query
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["access_type"] == "offline"
    token_request = fake.calls_to("token")[0].form
    assert token_request["grant_type"] == "authorization_code"
    assert len(token_request["code_verifier"]) == 128  # google-auth-oauthlib's verifier
    assert str(credentials.refresh_token).startswith("1//")
    assert access_token(credentials).startswith("ya29.")
    assert set(credentials.granted_scopes) == set(SCOPES)

    claims = id_token.verify_token(
        credentials.id_token,
        transport(),
        audience=DEFAULT_CLIENT_ID,
        certs_url=f"{base_url}/oauth2/v3/certs",
    )
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["email"] == "ana@example.com"
    assert claims["email_verified"] is True
    assert claims["hd"] == "example.com"

    status, body, _ = await free_busy(base_url, access_token(credentials), day_query("primary"))
    assert status == 200
    assert body["kind"] == "calendar#freeBusy"
    assert body["timeMin"] == "2025-03-10T00:00:00.000Z"
    # Overlapping blocks merge; the one running past midnight is clipped to timeMax.
    assert body["calendars"]["primary"]["busy"] == [
        {"start": "2025-03-10T09:00:00Z", "end": "2025-03-10T11:00:00Z"},
        {"start": "2025-03-10T23:00:00Z", "end": "2025-03-11T00:00:00Z"},
    ]


async def test_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(
    fake, base_url, new_flow
):
    credentials = signed_in(new_flow, access_type="offline")
    old_token, refresh_token = credentials.token, credentials.refresh_token

    refresh(credentials)

    assert credentials.token != old_token
    assert credentials.refresh_token == refresh_token  # Google does not rotate them
    assert fake.calls_to("token")[-1].form["grant_type"] == "refresh_token"
    status, _, _ = await free_busy(base_url, access_token(credentials), day_query("primary"))
    assert status == 200


def test_the_discovery_document_points_at_the_fake(base_url):
    discovery = requests.get(f"{base_url}/.well-known/openid-configuration", timeout=5).json()

    assert discovery["issuer"] == "https://accounts.google.com"
    assert discovery["authorization_endpoint"] == f"{base_url}/o/oauth2/v2/auth"
    assert discovery["token_endpoint"] == f"{base_url}/token"
    assert discovery["revocation_endpoint"] == f"{base_url}/revoke"
    assert discovery["jwks_uri"] == f"{base_url}/oauth2/v3/certs"


def test_a_second_consent_without_prompt_gives_no_refresh_token(fake, base_url, new_flow):
    first = signed_in(new_flow, access_type="offline")
    again = signed_in(new_flow, access_type="offline")
    forced = signed_in(new_flow, access_type="offline", prompt="consent")

    assert first.refresh_token
    assert again.refresh_token is None
    assert forced.refresh_token


def test_short_scope_names_come_back_long_as_google_answers_them(fake, base_url, new_flow):
    flow = new_flow(scopes=["email"])
    url, _ = flow.authorization_url()
    answer = follow_consent(url)

    # oauthlib refuses a changed scope unless told to relax (then it warns).
    with pytest.raises(Warning, match="Scope has changed"):
        flow.fetch_token(code=answer["code"])


def test_denied_consent_redirects_with_access_denied_and_the_state(fake, base_url, new_flow):
    fake.deny_next_consent()
    flow = new_flow()
    url, state = flow.authorization_url()

    assert follow_consent(url) == {"error": "access_denied", "state": state}
    assert "code" in follow_consent(url)  # only the next one was denied


def test_granular_consent_grants_fewer_scopes(fake, base_url, new_flow):
    fake.grant_only_next(["openid", USERINFO_EMAIL])
    flow = new_flow()
    url, _ = flow.authorization_url()
    answer = follow_consent(url)

    assert set(answer["scope"].split()) == {"openid", USERINFO_EMAIL}
    with pytest.raises(Warning, match="Scope has changed"):
        flow.fetch_token(code=answer["code"])


def test_a_wrong_code_verifier_is_invalid_grant(fake, base_url, new_flow):
    flow = new_flow()
    url, _ = flow.authorization_url()
    code = follow_consent(url)["code"]
    flow.code_verifier = "x" * 64

    with pytest.raises(InvalidGrantError, match="Invalid code verifier"):
        flow.fetch_token(code=code)


def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(fake, base_url, new_flow):
    flow = new_flow(redirect_uri="http://evil.example/cb")
    url, _ = flow.authorization_url()

    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "redirect_uri_mismatch" in response.text


async def test_revoked_access_makes_refresh_fail_and_tokens_unusable(fake, base_url, new_flow):
    credentials = signed_in(new_flow, access_type="offline")

    fake.revoke_all("ana@example.com")

    with pytest.raises(RefreshError, match="invalid_grant") as caught:
        refresh(credentials)
    assert caught.value.args[1] == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    status, body, _ = await free_busy(base_url, access_token(credentials), day_query("primary"))
    assert status == 401
    assert body["error"]["errors"][0]["reason"] == "authError"


def test_the_revoke_endpoint_ends_the_grant(fake, base_url, new_flow):
    credentials = signed_in(new_flow, access_type="offline")

    response = requests.post(
        f"{base_url}/revoke",
        data={"token": credentials.refresh_token},
        timeout=5,
    )
    assert response.status_code == 200
    again = requests.post(f"{base_url}/revoke", params={"token": credentials.token}, timeout=5)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_token"
    with pytest.raises(RefreshError, match="invalid_grant"):
        refresh(credentials)


async def test_expired_and_unknown_tokens_get_googles_401():
    fake = FakeGoogle()
    token = fake.issue_access_token("ana@example.com")
    fake.expire_access_tokens()
    async with running(fake.app) as base_url:
        for bearer in (token, "ya29.not-a-token"):
            status, body, headers = await free_busy(base_url, bearer, day_query("primary"))
            assert status == 401
            assert body["error"]["code"] == 401
            assert body["error"]["status"] == "UNAUTHENTICATED"
            assert body["error"]["errors"][0] == {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
            assert headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_token_without_a_calendar_scope_is_refused(fake):
    token = fake.issue_access_token("ana@example.com", ["openid", USERINFO_EMAIL])
    async with running(fake.app) as base_url:
        status, body, _ = await free_busy(base_url, token, day_query("primary"))
    assert status == 403
    assert body["error"]["errors"][0]["reason"] == "insufficientPermissions"


async def test_free_busy_sees_colleagues_not_strangers_and_converts_time_zones(fake):
    token = fake.issue_access_token("ana@example.com")
    query = day_query("ben@example.com", "cleo@gmail.com", "nobody@example.com")
    async with running(fake.app) as base_url:
        status, body, _ = await free_busy(base_url, token, {**query, "timeZone": "Europe/Berlin"})

    assert status == 200
    calendars = body["calendars"]
    assert calendars["ben@example.com"] == {
        "busy": [{"start": "2025-03-10T15:00:00+01:00", "end": "2025-03-10T16:00:00+01:00"}]
    }
    not_found = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
    assert calendars["cleo@gmail.com"] == not_found
    assert calendars["nobody@example.com"] == not_found
    assert fake.calls_to("freeBusy")[0].json["timeZone"] == "Europe/Berlin"


async def test_free_busy_validates_its_request(fake):
    token = fake.issue_access_token("ana@example.com")
    async with running(fake.app) as base_url:
        empty = {"timeMin": "2025-03-10T10:00:00Z", "timeMax": "2025-03-10T10:00:00Z"}
        status, body, _ = await free_busy(base_url, token, {**empty, "items": []})
        assert status == 400
        assert body["error"]["errors"][0]["reason"] == "timeRangeEmpty"

        status, body, _ = await free_busy(base_url, token, {"items": [{"id": "primary"}]})
        assert status == 400
        assert body["error"]["errors"][0]["reason"] == "required"

        many = day_query(*(f"u{i}@example.com" for i in range(51)))
        status, body, _ = await free_busy(base_url, token, many)
        assert status == 400


async def test_domain_wide_delegation_reads_several_users_in_one_call(fake, base_url):
    info = fake.service_account_info(base_url)
    credentials = delegated(info, [FREEBUSY_SCOPE], "ana@example.com")

    refresh(credentials)

    assertion = fake.calls_to("token")[0].form
    assert assertion["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    status, body, _ = await free_busy(
        base_url, access_token(credentials), day_query("ana@example.com", "ben@example.com")
    )
    assert status == 200
    assert body["calendars"]["ana@example.com"]["busy"][0]["start"] == "2025-03-10T09:00:00Z"
    assert body["calendars"]["ben@example.com"]["busy"] == [
        {"start": "2025-03-10T14:00:00Z", "end": "2025-03-10T15:00:00Z"}
    ]


def test_delegation_fails_for_scopes_the_admin_did_not_grant_and_for_strangers(fake, base_url):
    info = fake.service_account_info(base_url)
    too_wide = delegated(info, ["https://www.googleapis.com/auth/calendar"], "ana@example.com")
    with pytest.raises(RefreshError, match="unauthorized_client"):
        refresh(too_wide)

    stranger = delegated(info, [FREEBUSY_SCOPE], "who@example.com")
    with pytest.raises(RefreshError, match="Invalid email or User ID"):
        refresh(stranger)

    forged = {**info, "private_key": fake.service_account_info(base_url, "x@y.z")["private_key"]}
    impostor = delegated(forged, [FREEBUSY_SCOPE], "ana@example.com")
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        refresh(impostor)


async def test_scripted_rate_limits_and_backend_errors_then_recovery(fake):
    token = fake.issue_access_token("ana@example.com")
    fake.fail_next(429, retry_after=7)
    fake.fail_next(403, reason="userRateLimitExceeded")
    fake.fail_next(503, times=2)
    async with running(fake.app) as base_url:
        outcomes = [await free_busy(base_url, token, day_query("primary")) for _ in range(5)]

    statuses = [status for status, _, _ in outcomes]
    assert statuses == [429, 403, 503, 503, 200]
    rate_limited = outcomes[0]
    assert rate_limited[2]["Retry-After"] == "7"
    assert rate_limited[1]["error"]["errors"][0] == {
        "message": "Rate Limit Exceeded",
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
    }
    assert outcomes[1][1]["error"]["errors"][0]["reason"] == "userRateLimitExceeded"
    assert outcomes[2][1]["error"]["errors"][0]["reason"] == "backendError"


async def test_latency_makes_a_client_time_out(fake):
    token = fake.issue_access_token("ana@example.com")
    fake.delay_next(0.5)
    async with running(fake.app) as base_url, aiohttp.ClientSession() as session:
        url = f"{base_url}/calendar/v3/freeBusy"
        headers = {"Authorization": f"Bearer {token}"}
        with pytest.raises(TimeoutError):
            await session.post(
                url,
                json=day_query("primary"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=0.1),
            )
        fake.latency = 0.2
        started = time.monotonic()
        async with session.post(url, json=day_query("primary"), headers=headers) as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.2
