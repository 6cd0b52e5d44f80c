"""The Ingress paths of deploy/ against the routes the Rasa server really has.

The server is built as in production – channels from credentials.yml (Slack and Teams
switched on), no HTTP API – but not started. Every Ingress path must reach a real channel or
web chat route, and none may reach another route ("/", the channels' GET health routes).
"""

from __future__ import annotations

import pytest

from devtools import render_manifests as rm

# the routes the Ingress is meant to reach (Sanic's URIs, without trailing slashes)
INTENDED = {
    "/webhooks/rest/webhook",
    "/webhooks/slack/webhook",
    "/webhooks/teams/webhook",
    "/webhooks/export/download/<token:str>",
    "/socket.io",
    "/webchat",
    "/webchat/<name:str>",
    "/webhooks/dashboard/view/<token:str>",
    "/webhooks/dashboard/data/<token:str>",
    "/webhooks/dashboard/csv/<token:str>",
    "/webhooks/dashboard/assets/<name:str>",
    # trainers' own scenarios (issue 14): the page by signed link, the JSON API by the signed
    # token in the X-Klartext-Token header
    "/webhooks/dashboard/scenarios/<token:str>",
    "/webhooks/dashboard/api/scenarios",
    "/webhooks/dashboard/api/scenarios/check",
    "/webhooks/dashboard/api/scenarios/save",
    "/webhooks/dashboard/api/scenarios/item/<slug:str>",
    "/webhooks/dashboard/api/scenarios/item/<slug:str>/session",
}


@pytest.fixture(scope="module")
def server_routes(tmp_path_factory):
    from rasa.core import run
    from sanic import Sanic

    from bot import config

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "_dotenv_loaded", True)
        patch.setattr(Sanic, "test_mode", True)
        patch.setenv("KLARTEXT_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        for name in (
            "KLARTEXT_SLACK_BOT_TOKEN",
            "KLARTEXT_SLACK_SIGNING_SECRET",
            "KLARTEXT_TEAMS_APP_ID",
            "KLARTEXT_TEAMS_APP_PASSWORD",
        ):
            patch.setenv(name, f"test-{name.lower()}")
        channels = run.create_http_input_channels(None, str(rm.ROOT / "credentials.yml"))
        app = run.configure_app(input_channels=channels, enable_api=False)
        return {route.uri.rstrip("/") or "/" for route in app.router.routes}


def reached(path: str, path_type: str, routes: set[str]) -> set[str]:
    """The routes an Ingress path sends traffic to (Kubernetes' Exact/Prefix matching)."""
    if path_type == "Exact":
        return {route for route in routes if route == path}
    return {route for route in routes if route == path or route.startswith(path + "/")}


def test_the_server_has_every_intended_route(server_routes):
    assert INTENDED <= server_routes
    assert {"/", "/webhooks/rest", "/webhooks/slack"} <= server_routes


def test_every_ingress_path_reaches_only_intended_routes(server_routes):
    all_on = {name: True for name in rm.CHANNEL_PATHS}
    values = {**rm.load_values(), "ingress": {**rm.load_values()["ingress"], "channels": all_on}}
    exposed = set()
    for path, path_type in rm.ingress_paths(values):
        routes = reached(path, path_type, server_routes)
        assert routes, f"{path} ({path_type}) reaches no route of the Rasa server"
        exposed |= routes
    assert exposed == INTENDED
