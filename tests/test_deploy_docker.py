"""The Dockerfiles of deploy/docker/, checked offline (no Docker daemon): parsed, not built.

Pinned base images, a non-root user, the right port, a HEALTHCHECK on the probe path,
constraints.txt for pip, and start commands consistent with the servers' launcher in
devtools/ and with the Kubernetes manifests.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

import pytest

from devtools import render_manifests as rm

DOCKER_DIR = rm.DEPLOY_DIR / "docker"
VALUES = rm.load_values()
SERVERS = {
    "rasa": {"port": VALUES["rasa"]["port"], "health": "/"},
    "actions": {"port": VALUES["actions"]["port"], "health": "/health"},
}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def args_of(parsed, name):
    return [args for instruction, args in parsed if instruction == name]


def exec_form(args: str) -> list[str]:
    command = json.loads(args)
    assert isinstance(command, list), f"not in exec form: {args}"
    return command


def launcher_flags() -> set[str]:
    """Every ``--flag`` in the command lists of devtools' server launchers."""
    flags = set()
    for name in ("servers.py", "run.py"):
        tree = ast.parse((rm.ROOT / "devtools" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.List):
                flags |= {
                    element.value
                    for element in node.elts
                    if isinstance(element, ast.Constant)
                    and isinstance(element.value, str)
                    and element.value.startswith("--")
                }
    return flags


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request):
    return request.param, instructions(DOCKER_DIR / f"Dockerfile.{request.param}")


def test_every_base_image_is_pinned_and_the_server_runs_on_python_3_10(server):
    _, parsed = server
    bases = [args.split()[0] for args in args_of(parsed, "FROM")]
    for image in bases:
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag), image
    assert re.fullmatch(r"python:3\.10\.\d+-slim(-\w+)?", bases[-1])


def test_the_server_runs_as_a_numeric_non_root_user(server):
    _, parsed = server
    final_stage = parsed[max(i for i, (ins, _) in enumerate(parsed) if ins == "FROM") :]
    users = args_of(final_stage, "USER")
    assert users, "no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    assert [ins for ins, _ in final_stage][-3:] == ["EXPOSE", "HEALTHCHECK", "CMD"]


def test_the_image_exposes_the_port_of_the_manifests(server):
    name, parsed = server
    assert args_of(parsed, "EXPOSE") == [str(SERVERS[name]["port"])]


def test_the_healthcheck_asks_the_probe_path(server):
    name, parsed = server
    (healthcheck,) = args_of(parsed, "HEALTHCHECK")
    port, path = SERVERS[name]["port"], SERVERS[name]["health"]
    assert f"http://127.0.0.1:{port}{path}'" in healthcheck
    assert "CMD" in healthcheck.split()


def test_packages_are_installed_with_the_constraints(server):
    _, parsed = server
    commands = [shlex.split(part) for args in args_of(parsed, "RUN") for part in args.split("&&")]
    project = [
        command for command in commands if command[:2] == ["pip", "install"] and "." in command
    ]
    assert project and all(option(command, "-c") == "constraints.txt" for command in project)
    assert any("constraints.txt" in args.split() for args in args_of(parsed, "COPY"))


def test_the_start_commands_use_only_the_launchers_flags(server):
    name, parsed = server
    (cmd,) = args_of(parsed, "CMD")
    command = exec_form(cmd)
    assert command[:2] == ["rasa", "run"]
    flags = {part for part in command if part.startswith("--")}
    assert flags <= launcher_flags()
    assert option(command, "--port") == str(SERVERS[name]["port"])


def test_the_rasa_server_starts_without_the_http_api_with_the_model_in_the_image():
    parsed = instructions(DOCKER_DIR / "Dockerfile.rasa")
    command = exec_form(args_of(parsed, "CMD")[0])
    assert "--enable-api" not in command
    assert option(command, "--credentials") == "credentials.yml"
    # the Deployment mounts the cluster's endpoints.yml over this file (WORKDIR /app)
    assert option(command, "--endpoints") == "endpoints.yml"
    assert args_of(parsed, "WORKDIR")[-1] == "/app"
    model_copies = [args.split() for args in args_of(parsed, "COPY") if "MODEL" in args]
    assert model_copies == [["${MODEL}", option(command, "--model")]]


def test_the_action_server_serves_the_actions_package():
    parsed = instructions(DOCKER_DIR / "Dockerfile.actions")
    command = exec_form(args_of(parsed, "CMD")[0])
    assert command == ["rasa", "run", "actions", "--port", "5055", "--actions", "actions"]


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((rm.ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv/", "var/", ".git/"} <= ignored
    assert "!models/klartext.tar.gz" in ignored
