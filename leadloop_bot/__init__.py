"""LeadLoop Bot's domain: outbound addresses, OAuth connections, audit. No Slack or HTTP-framework types here."""
