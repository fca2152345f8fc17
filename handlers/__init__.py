"""The doors into the app: Slack listeners and web routes. Thin: parse, authorize, call the domain, render."""
