"""LeadLoop Bot's domain: outbound addresses, OAuth connections, audit. No Slack or HTTP-framework types here."""

from leadloop_bot import authlib_compat  # noqa: F401  (must run before any module imports authlib's httpx client)
