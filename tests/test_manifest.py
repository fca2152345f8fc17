"""manifest.yml is valid and matches what the app really registers and calls (no more, no less)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from handlers.slack import LISTENER_MODULES

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())

# The bot scope each Web API method needs (docs.slack.dev method pages). A new call must be added here.
SCOPE_OF_METHOD = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "views_open": None,
    "views_update": None,
    "views_publish": None,
}


class RecordingApp:
    """Stands in for bolt's AsyncApp at registration time only, noting what each module registers."""

    def __init__(self) -> None:
        self.registered: dict[str, list[Any]] = defaultdict(list)

    def __getattr__(self, kind: str) -> Callable[..., Any]:
        def register(*args: Any, **_: Any) -> Any:
            if args and callable(args[0]):  # bare decorator, e.g. @app.middleware
                self.registered[kind].append(args[0].__name__)
                return args[0]
            self.registered[kind].append(args[0])
            return lambda listener: listener

        return register


def registered() -> dict[str, list[Any]]:
    app = RecordingApp()
    for module in LISTENER_MODULES:
        module.register(app, services=None)  # type: ignore[arg-type]
    return app.registered


def test_manifest_follows_slacks_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "manifest.schema.json").read_text())
    jsonschema.validate(MANIFEST, schema)


def test_every_registered_command_and_event_is_in_the_manifest_and_nothing_else() -> None:
    found = registered()
    commands = {entry["command"] for entry in MANIFEST["features"]["slash_commands"]}
    assert commands == set(found["command"])
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == set(found["event"])
    if found["action"] or found["view"] or found["shortcut"]:
        assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in found["event"])
    assert {"connect_link", "new_link"} <= set(found["action"]), "URL buttons need an ack listener too"


def test_scopes_are_exactly_what_the_code_calls() -> None:
    called: set[str] = set()
    for path in [*ROOT.glob("handlers/**/*.py"), *ROOT.glob("leadloop_bot/**/*.py")]:
        called |= set(re.findall(r"client\.(\w+)\(", path.read_text()))
    slack_methods = {
        name
        for name in called
        if name in SCOPE_OF_METHOD or re.match(r"^(chat|conversations|users|views|apps|functions)_", name)
    }
    unknown = slack_methods - set(SCOPE_OF_METHOD)
    assert not unknown, f"add the scope these methods need to SCOPE_OF_METHOD: {unknown}"
    needed = {"commands"} | {SCOPE_OF_METHOD[name] for name in slack_methods if SCOPE_OF_METHOD[name]}
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed, "least privilege: no scope the code doesn't use"
