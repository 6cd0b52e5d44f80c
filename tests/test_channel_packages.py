"""The Slack app manifest and the Teams app package (`make teams-package`), filled from .env."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bot.config import ROOT, read_settings
from connectors.slack import KlartextSlackInput
from connectors.teams import KlartextTeamsInput
from devtools import teams_package
from devtools.teams_package import PackageError

APP_ID = "00000000-0000-0000-0000-00000000b075"
PUBLIC = "https://coach.example.org"


def settings(**values: str):
    env = {"KLARTEXT_PUBLIC_URL": PUBLIC + "/", "KLARTEXT_TEAMS_APP_ID": APP_ID}
    env.update(values)
    return read_settings(env)


def webhook(channel) -> str:
    return f"{PUBLIC}/webhooks/{channel.name()}/webhook"


# --------------------------------------------------------------------------- Slack
def test_the_slack_manifest_names_scopes_events_and_the_one_webhook():
    manifest = teams_package.slack_manifest(settings())
    assert manifest["_metadata"]["major_version"] == 1
    assert set(manifest["oauth_config"]["scopes"]["bot"]) >= {
        "chat:write",  # chat.postMessage, chat.update (connectors/slack.py)
        "im:history",
        "app_mentions:read",
        "channels:history",
    }
    events = manifest["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) >= {"message.im", "app_mention", "message.channels"}
    assert events["request_url"] == webhook(KlartextSlackInput)
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity == {"is_enabled": True, "request_url": webhook(KlartextSlackInput)}
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    info = manifest["display_information"]
    assert len(info["description"]) <= 140 and 175 <= len(info["long_description"]) <= 4000
    assert len(info["name"]) <= 35 and len(manifest["features"]["bot_user"]["display_name"]) <= 80


def test_the_slack_template_takes_the_address_from_one_setting():
    raw = (ROOT / "deploy" / "slack" / "manifest.yml").read_text(encoding="utf-8")
    body = "\n".join(line for line in raw.splitlines() if not line.startswith("#"))
    assert body.count("${KLARTEXT_PUBLIC_URL}") == 2 and "https://" not in body
    printed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "devtools.teams_package", "slack"],
        cwd=ROOT,
        env={"KLARTEXT_PUBLIC_URL": "https://other.example.net/", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    urls = yaml.safe_load(printed)["settings"]
    assert (
        urls["interactivity"]["request_url"] == "https://other.example.net/webhooks/slack/webhook"
    )
    assert "${" not in printed


@pytest.mark.parametrize("url", ["http://127.0.0.1:5005", "coach.example.org", "https://"])
def test_without_a_public_https_address_no_manifest_is_made(url):
    with pytest.raises(PackageError, match="KLARTEXT_PUBLIC_URL"):
        teams_package.slack_manifest(settings(KLARTEXT_PUBLIC_URL=url))
    with pytest.raises(PackageError, match="KLARTEXT_PUBLIC_URL"):
        teams_package.teams_manifest(settings(KLARTEXT_PUBLIC_URL=url))


# --------------------------------------------------------------------------- Teams
@pytest.fixture
def package(tmp_path) -> Path:
    return teams_package.write_teams_package(settings(), tmp_path / "teams")


def test_the_teams_package_holds_the_manifest_and_two_icons(package):
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["manifestVersion"] == "1.16" and manifest["version"] == "1.0.0"
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID and "personal" in bot["scopes"]
    assert manifest["validDomains"] == ["coach.example.org"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][key].startswith(PUBLIC + "/"), key
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    for command in bot["commandLists"][0]["commands"]:
        assert len(command["title"]) <= 32 and len(command["description"]) <= 128, command
    assert "${" not in json.dumps(manifest)


def test_the_icons_have_the_sizes_and_colours_teams_requires(package):
    with zipfile.ZipFile(package) as archive:
        archive.extractall(package.parent / "unpacked")
    color = Image.open(package.parent / "unpacked" / "color.png")
    outline = Image.open(package.parent / "unpacked" / "outline.png")
    assert color.format == outline.format == "PNG"
    assert color.size == (192, 192) and outline.size == (32, 32)
    assert color.mode == "RGB" and len(set(color.getdata())) > 2
    assert outline.mode == "RGBA"
    pixels = list(outline.getdata())
    assert all(p[:3] == (255, 255, 255) for p in pixels)  # white only
    alphas = {p[3] for p in pixels}
    assert 0 in alphas and 255 in alphas  # transparent background, white drawing


def test_the_teams_endpoint_in_the_docs_is_the_channels_route():
    docs = (ROOT / "docs" / "channels.md").read_text(encoding="utf-8")
    assert f"/webhooks/{KlartextTeamsInput.name()}/webhook" in docs
    assert "make teams-package" in docs and "deploy/slack/manifest.yml" in docs


@pytest.mark.parametrize("app_id", ["", "not-a-guid", APP_ID + "0"])
def test_without_the_azure_bots_app_id_no_package_is_made(app_id, tmp_path):
    with pytest.raises(PackageError, match="KLARTEXT_TEAMS_APP_ID"):
        teams_package.write_teams_package(settings(KLARTEXT_TEAMS_APP_ID=app_id), tmp_path)
    assert not (tmp_path / teams_package.PACKAGE_NAME).exists()


def test_make_teams_package_runs_the_generator(tmp_path):
    dry = subprocess.run(
        ["make", "-n", "teams-package"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "-m devtools.teams_package" in dry.stdout
    env = {
        "KLARTEXT_PUBLIC_URL": PUBLIC,
        "KLARTEXT_TEAMS_APP_ID": APP_ID,
        "KLARTEXT_VAR_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    done = subprocess.run(
        [python, "-m", "devtools.teams_package"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == tmp_path / "teams" / teams_package.PACKAGE_NAME
    env["KLARTEXT_TEAMS_APP_ID"] = ""
    refused = subprocess.run(
        [python, "-m", "devtools.teams_package"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "KLARTEXT_TEAMS_APP_ID" in refused.stderr
