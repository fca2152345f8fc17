"""Test scaffolding: the running stack (app + peers) and Slack-shaped requests into it."""
