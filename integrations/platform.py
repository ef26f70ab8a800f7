"""What every chat platform module offers (verify, parse) and the registry that builds them."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from integrations.discourse import DiscoursePlatform
from integrations.generic import GenericPlatform
from integrations.model import InboundMessage
from integrations.routing import Routing
from integrations.twilio import TwilioPlatform


@runtime_checkable
class Platform(Protocol):
    """One chat platform's webhook: check it came from the platform, then normalise it.

    `verify` raises `SignatureError`; `parse` raises `MalformedPayload`, `InvalidPayload` or
    `IgnoredEvent` and nothing else, whatever the bytes. Both are pure: no I/O, no clock reads
    (the caller passes `now`), so they are trivially testable and fuzzable.
    """

    name: str

    def verify(self, *, body: bytes, headers: Mapping[str, str], url: str, now: float) -> None: ...

    def parse(self, *, body: bytes, headers: Mapping[str, str]) -> InboundMessage: ...



def build_platforms(
    *,
    webhook_secret: str | None,
    discourse_secret: str | None,
    twilio_auth_token: str | None,
    routing: Routing | None = None,
    discourse_base_url: str | None = None,
) -> dict[str, Platform]:
    """Every platform, keyed by its route name (`POST /webhooks/<name>`).

    A platform whose secret is unset is still registered: its `verify` refuses every delivery
    (401), so an unconfigured route fails closed instead of disappearing. Adding a platform is one
    module and one line here.
    """
    routing = routing or Routing()
    platforms: list[Platform] = [
        GenericPlatform(webhook_secret, routing),
        DiscoursePlatform(discourse_secret, routing, base_url=discourse_base_url),
        TwilioPlatform(twilio_auth_token, routing),
    ]
    return {platform.name: platform for platform in platforms}
