"""An organisation connection as participants and admins meet it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.admin import organisation
from core.commands import Command, Intent, Provider
from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    OrgStatus,
)
from core.secret import Secret
from core.views import ConnectionStatusView, Notice
from tests.memory import PROGRAM, World

CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def organisation_of(world: World, status: OrgStatus = OrgStatus.CONNECTED) -> None:
    world.organisations.connections[(PROGRAM, OrgProvider.MICROSOFT)] = OrganisationConnection(
        PROGRAM,
        OrgProvider.MICROSOFT,
        "Example Org",
        ("example.org",),
        "mentoring@example.org",
        status,
        CONNECTED_AT,
        last_error="invalid_client: AADSTS7000222",
    )


async def test_a_covered_person_s_status_names_the_organisation_and_opting_out_ends_it():
    world = World()
    organisation_of(world)
    ana = world.person("Ana", connected=None)

    shown = (await world.send(ana, Command(Intent.STATUS))).reply
    assert isinstance(shown, ConnectionStatusView)
    assert shown.text.startswith("Your calendar is connected through Example Org (Microsoft 365)")

    out = (await world.send(ana, Command(Intent.ORGANISATION_OFF))).reply
    assert isinstance(out, Notice)
    assert out.text.startswith("Done: I no longer read your calendar through your organisation")
    again = (await world.send(ana, Command(Intent.ORGANISATION_OFF))).reply
    assert isinstance(again, Notice)
    assert again.text.startswith("I already don't")
    shown = (await world.send(ana, Command(Intent.STATUS))).reply
    assert isinstance(shown, ConnectionStatusView)
    assert shown.text.startswith("Your calendar is not connected")

    back = (await world.send(ana, Command(Intent.ORGANISATION_ON))).reply
    assert isinstance(back, Notice)
    assert back.text.startswith(
        "Done: Your calendar is connected through Example Org (Microsoft 365)"
    )


async def test_a_personal_connection_takes_precedence_in_the_status():
    world = World()
    organisation_of(world)
    ana = world.person("Ana", connected=Provider.GOOGLE)
    shown = (await world.send(ana, Command(Intent.STATUS))).reply
    assert isinstance(shown, ConnectionStatusView)
    assert shown.text.startswith("Your Google calendar")
    back = (await world.send(ana, Command(Intent.ORGANISATION_ON))).reply
    assert isinstance(back, Notice)
    assert "Your own Google calendar stays connected and is read first" in back.text


async def test_someone_outside_the_domains_is_told_there_is_nothing_to_turn_on():
    world = World()
    organisation_of(world)
    sam = world.person("Sam", email="sam@elsewhere.com", connected=None)
    answer = (await world.send(sam, Command(Intent.ORGANISATION_ON))).reply
    assert isinstance(answer, Notice)
    assert answer.text.startswith("No organisation connection of this program covers")


async def test_admins_are_told_when_the_organisation_withdrew_the_access():
    world = World()
    organisation_of(world, OrgStatus.REVOKED)
    ada = world.person("Ada", connected=None)
    world.person("Ben", connected=None)
    world.programs.admin_pairs.add((PROGRAM, ada.id))
    outcome = await world.scheduler.organisation_revoked(PROGRAM, OrgProvider.MICROSOFT)
    [message] = outcome.direct
    assert message.person == ada.id
    assert isinstance(message.view, Notice)
    assert "(invalid_client: AADSTS7000222)" in message.view.text
    assert "pairtime org connect microsoft" in message.view.text
    # Connected again since: nothing to say.
    organisation_of(world)
    assert (await world.scheduler.organisation_revoked(PROGRAM, OrgProvider.MICROSOFT)).direct == ()


async def test_admins_are_told_when_the_program_account_may_not_create_meetings():
    world = World()
    organisation_of(world)  # can_write False: the refusal turned it off
    ada = world.person("Ada", connected=None)
    world.programs.admin_pairs.add((PROGRAM, ada.id))
    reason = "Microsoft Graph answered 403 (ErrorAccessDenied)"
    outcome = await world.scheduler.organisation_write_refused(
        PROGRAM, OrgProvider.MICROSOFT, reason
    )
    [message] = outcome.direct
    assert message.person == ada.id
    assert isinstance(message.view, Notice)
    assert reason in message.view.text
    assert "emailed as invitations instead" in message.view.text
    assert "--write" in message.view.text
    # Connected again with the grant since: nothing to say.
    key = (PROGRAM, OrgProvider.MICROSOFT)
    world.organisations.connections[key] = replace(
        world.organisations.connections[key], can_write=True
    )
    again = await world.scheduler.organisation_write_refused(PROGRAM, OrgProvider.MICROSOFT, reason)
    assert again.direct == ()


@pytest.mark.parametrize(
    ("account", "domains", "message"),
    [
        ("not an address", ("example.org",), "must be an email address"),
        ("m@example.org", ("exa mple.org",), "is not a domain name"),
        ("m@other.org", ("example.org",), "is not in the connected domains"),
    ],
)
def test_a_setup_is_checked_before_any_provider_is_asked(
    account: str, domains: tuple[str, ...], message: str
):
    setup = OrganisationSetup(OrgProvider.GOOGLE, "", account, domains, {}, Secret("{}"))
    with pytest.raises(OrganisationRefused, match=message):
        organisation.checked(setup)
