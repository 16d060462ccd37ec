"""Fixtures shared by every test folder, and how many processes a run uses."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis times each example (200 ms) and its data generation: timed assertions, which a
# loaded machine fails (280 ms in test_ballots beside other work). The suite times nothing.
settings.register_profile("pairtime", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pairtime")

# The longest tests and modules, longest first: each takes as long as dozens of others (a
# burst of votes, processes and leases, a browser, the whole type check). They start first,
# one per free worker (``--maxschedchunk 1`` in pyproject.toml: one test at a time),
# and the short ones fill in around them, instead of one of them ending the run alone.
# Measured with ``--durations`` on 2 cores; tests/unit/test_suite_order.py keeps each name
# true.
LONGEST_FIRST = (
    "tests/integration/test_slack_kill.py::test_a_process_killed_mid_burst",
    "tests/integration/test_slack_vote_load.py::test_a_thousand_votes_at_once",
    "tests/test_quality.py::test_mypy_strict",
    "tests/integration/test_teams_polls.py::test_500_votes_from_50_people_at_once",
    "tests/e2e/test_playground_browser.py::",  # one server and one browser for the module
    "tests/integration/test_two_apps_postgres.py::test_two_pairtime_serve_processes",
    "tests/integration/test_slack_hostile.py::test_every_field_sent_with_a_wrong_type",
    "tests/integration/test_two_apps_postgres.py::test_twenty_clicks_of_a_pair",
    "tests/unit/test_slots_json.py::test_the_fast_reader_never_answers_otherwise",
    "tests/storage/test_concurrency.py::test_a_thousand_clicks_handled_in_any_order",
    "tests/integration/test_slack_invitations.py::test_a_closed_poll_invites_its_voters",
    "tests/adapters/teams/test_cards.py::test_every_card_renders_cleanly_in_teams",
    "tests/integration/test_cli_slots.py::test_any_input_gives_slots_or_exactly_one_line",
    "tests/integration/test_cli_storage.py::test_serve_refuses_a_database_that_is_behind",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of :data:`LONGEST_FIRST` first, in its order; the rest as collected."""

    def rank(item: pytest.Item) -> int:
        return next(
            (n for n, start in enumerate(LONGEST_FIRST) if item.nodeid.startswith(start)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: every other test keeps its place


def pytest_sessionstart(session: pytest.Session) -> None:
    """pytest's unraisable-exception hook is installed by now (``pytest_configure``)."""
    del session
    sys.unraisablehook = _described_safely(sys.unraisablehook)


class _Named:
    """Stands for an object that could not be described, and says so."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _described_safely(hook: Callable[[Any], object]) -> Callable[[Any], None]:
    """pytest describes an exception raised where nothing could catch it (a ``__del__``, a
    weakref callback, the collector) by the ``repr`` of the object it came from; should that
    raise, as an object half torn down may, its report says only "Failed to process
    unraisable exception", with neither the exception nor its object. Here such an object is
    named by its type and the error its ``repr`` raised, and the exception goes on to pytest
    as it was: the test still fails, now saying why."""

    def described(unraisable: Any) -> None:
        try:
            repr(unraisable.object)
            traceback.format_exception(
                unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback
            )
        except BaseException as error:  # noqa: BLE001 - whatever describing it raised
            unraisable = SimpleNamespace(
                exc_type=unraisable.exc_type,
                exc_value=unraisable.exc_value,
                exc_traceback=unraisable.exc_traceback,
                err_msg=unraisable.err_msg,
                object=_Named(
                    f"<a {type(unraisable.object).__qualname__} whose repr raised {error!r}>"
                ),
            )
        hook(unraisable)

    return described


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (in pyproject's addopts): workers for the suite or a folder, none for less.

    Starting workers costs a second or two each, more than a file or a single test takes, and
    a lone test is easier to debug in this process (``-s``, ``breakpoint()``).
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` or an explicit ``-n N`` still decides.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    here = config.invocation_params.dir
    if config.args_source is pytest.Config.ArgsSource.ARGS and all(
        "::" in arg or (here / arg).is_file() for arg in config.args
    ):
        return 0
    # The whole suite or a folder: two workers per core. A worker spends about half its time
    # waiting (PostgreSQL's commits, `pairtime serve` processes, a browser, a lease running
    # out), and a second one per core runs meanwhile; more add start-up (seconds of imports
    # and collection each) for little.
    return 2 * (os.cpu_count() or 1)


@pytest.fixture
def isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so no developer's .env or database leaks into a test."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# PostgreSQL tests at once, over every xdist worker and every run on this machine using the
# same server. Each may open about 30 connections (two apps of POSTGRES_POOL_SIZE 4, so up
# to 8 each, `pairtime serve` processes as many, the test's own and an admin's): three at
# once stay under PostgreSQL's default max_connections of 100 (less 3 reserved), however
# many cores (two workers each) the machine has. The others wait for a slot, not a clock.
POSTGRES_TESTS_AT_ONCE = 3


@pytest.fixture(autouse=True)
def postgres_slot(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked ``postgres`` runs holding one of :data:`POSTGRES_TESTS_AT_ONCE` slots
    (a file lock, released when the test's fixtures are torn down, or its process dies)."""
    url = os.environ.get("PAIRTIME_TEST_POSTGRES_URL")
    if not url or request.node.get_closest_marker("postgres") is None:
        yield
        return
    server = hashlib.sha256(url.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"pairtime-postgres-slots-{server}"
    folder.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    mine = int(worker) % POSTGRES_TESTS_AT_ONCE if worker.isdigit() else 0
    order = [mine, *(n for n in range(POSTGRES_TESTS_AT_ONCE) if n != mine)]
    with _slot(folder, order):
        yield


@contextlib.contextmanager
def _slot(folder: Path, order: list[int]) -> Iterator[None]:
    """A free slot of ``order``, or the first one once it is free."""
    files = [(folder / f"slot-{n}").open("a") for n in order]
    try:
        held = next((f for f in files if _try_lock(f)), None)
        if held is None:
            held = files[0]
            fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
    finally:
        for f in files:
            f.close()


def _try_lock(file: IO[str]) -> bool:
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
