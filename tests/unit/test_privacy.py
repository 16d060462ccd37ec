"""Account identifiers are shown masked: enough for their owner to recognise."""

from __future__ import annotations

import pytest

from core.privacy import masked


@pytest.mark.parametrize(
    ("identifier", "shown"),
    [
        ("maria@icloud.com", "m•••@icloud.com"),
        (" Ana.Lima@Example.org ", "A•••@Example.org"),
        ("svc-mentoring", "s•••"),
        ("a@b@c.example", "a•••@c.example"),  # the last @ separates the domain
        ("@example.org", "•••"),  # nothing before the domain: nothing of it shown
        ("", "•••"),
    ],
)
def test_an_identifier_keeps_its_first_character_and_domain(identifier: str, shown: str):
    assert masked(identifier) == shown
