"""Small rules worth pinning down on their own: address canonical form and the Microsoft issuer template."""

from __future__ import annotations

import pytest

from leadloop_bot.addresses import canonical_email
from leadloop_bot.errors import ProviderRefused, ValidationFailed
from leadloop_bot.oidc import expected_issuer


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Jane@Acme.com", "jane@acme.com"),
        ("  jane@acme.com  ", "jane@acme.com"),
        ("jane+sales@acme.co.uk", "jane+sales@acme.co.uk"),
    ],
)
def test_addresses_have_one_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_email(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "a@b",
        "jane@acme.com\r\nBcc: x@evil.com",
        "jane@gmaіl.com",
        '"quoted local"@acme.com',
        "x" * 250 + "@acme.com",
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        canonical_email(raw)
    assert "email" in failure.value.errors


def test_microsofts_templated_issuer_is_filled_from_the_tokens_own_tenant() -> None:
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert expected_issuer(template, {"tid": "abc"}) == "https://login.microsoftonline.com/abc/v2.0"
    with pytest.raises(ProviderRefused):
        expected_issuer(template, {})
    assert expected_issuer("https://accounts.google.com", {"tid": "abc"}) == "https://accounts.google.com"
