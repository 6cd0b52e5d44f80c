"""The Kubernetes manifests of deploy/ (rendered by devtools/render_manifests.py), offline.

Every object is validated against the Kubernetes version named in deploy/values.yml with
kubernetes-validate (strict: unknown fields fail). The rest checks what the manifests
promise: every KLARTEXT_* setting of bot/config.py in the ConfigMap or the Secret and no
secret outside the Secret, probes and a non-root read-only container everywhere, an Ingress
with only the channel webhooks and the web chat, the action server reachable only from Rasa.
"""

from __future__ import annotations

import copy
import json
import re

import kubernetes_validate
import pytest
import yaml

from bot.config import SETTINGS
from devtools import render_manifests as rm

VALUES = rm.load_values()
SECRET_NAMES = [s.name for s in SETTINGS if rm.is_secret(s.name)]
# a recognisable value per secret setting: none of them may appear outside the Secret
FAKE_SECRETS = {name: f"fake-{name.lower()}-0123456789abcdef" for name in SECRET_NAMES}
ALL_CHANNELS = {name: True for name in rm.CHANNEL_PATHS}

# What the Ingress may expose (routes of connectors/*.py on the Rasa server)
ALLOWED_INGRESS_PATHS = {
    ("/webhooks/rest/webhook", "Exact"),
    ("/webhooks/slack/webhook", "Exact"),
    ("/webhooks/teams/webhook", "Exact"),
    ("/webhooks/export/download", "Prefix"),
    ("/webhooks/dashboard", "Prefix"),
    ("/webchat", "Prefix"),
    ("/socket.io", "Prefix"),
}
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")


def values_with(**changes):
    values = copy.deepcopy(VALUES)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = values
        for key in path:
            target = target[key]
        target[last] = value
    return values


def by_kind(objects, kind):
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects, kind, name):
    (found,) = [o for o in by_kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def labels_match(selector, labels):
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.fixture(scope="module")
def objects():
    return rm.render_objects(VALUES, FAKE_SECRETS)


@pytest.fixture(scope="module")
def all_channels_objects():
    return rm.render_objects(values_with(ingress__channels=ALL_CHANNELS), FAKE_SECRETS)


def kubernetes_version():
    return f"{VALUES['kubernetes_version']}.0"


# ------------------------------------------------------------------ schema validation
def test_every_object_is_valid_for_the_kubernetes_version(objects):
    kinds = {obj["kind"] for obj in objects}
    assert kinds >= {
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
        "Job",
        "CronJob",
    }
    for obj in objects:
        kubernetes_validate.validate(obj, kubernetes_version(), strict=True)


def test_strict_validation_catches_a_misspelt_field(objects):
    broken = copy.deepcopy(one(objects, "Deployment", "klartext-rasa"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_version(), strict=True)


def test_every_document_is_one_object_in_the_namespace(objects):
    assert len(rm.render_documents(VALUES)) == len(objects)
    for obj in objects:
        assert obj["metadata"]["namespace"] == VALUES["namespace"]


# ------------------------------------------------------------------ settings
def test_the_values_file_lists_every_setting_of_bot_config():
    assert rm.missing_settings(VALUES) == []
    assert set(VALUES["settings"]) == {s.name for s in SETTINGS}


def test_every_setting_is_in_exactly_one_of_configmap_and_secret(objects):
    config = one(objects, "ConfigMap", "klartext-settings")["data"]
    secret = one(objects, "Secret", "klartext-secrets")["stringData"]
    for setting in SETTINGS:
        assert (setting.name in config) != (setting.name in secret), setting.name
    assert set(config) | set(secret) == {s.name for s in SETTINGS}


def test_secret_values_come_from_the_env_file_into_the_secret_only(objects):
    secret = one(objects, "Secret", "klartext-secrets")["stringData"]
    assert secret == FAKE_SECRETS
    elsewhere = json.dumps([obj for obj in objects if obj["kind"] != "Secret"])
    for value in FAKE_SECRETS.values():
        assert value not in elsewhere


@pytest.mark.parametrize(
    "name",
    [
        "KLARTEXT_DATABASE_URL",
        "KLARTEXT_TRACKER_STORE_URL",
        "KLARTEXT_SECRET",
        "KLARTEXT_TRAINER_CODE",
        "KLARTEXT_WEBCHAT_SECRET",
        "KLARTEXT_SLACK_BOT_TOKEN",
        "KLARTEXT_SLACK_SIGNING_SECRET",
        "KLARTEXT_TEAMS_APP_PASSWORD",
    ],
)
def test_credentials_are_secret(name):
    assert rm.is_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "KLARTEXT_PUBLIC_URL",
        "KLARTEXT_TEAMS_APP_ID",
        "KLARTEXT_TEAMS_TOKEN_URL",
        "KLARTEXT_TIMEZONE",
    ],
)
def test_plain_settings_are_not_secret(name):
    assert not rm.is_secret(name)


SECRET_NAME_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN(?!_URL)|_CODE|_KEY|DATABASE_URL|STORE_URL")
SECRET_VALUE_SHAPES = (
    re.compile(r"://[^/@\s]+:[^/@\s]+@"),  # a password inside a URL
    re.compile(r"^xox[abp]-"),  # Slack token
    re.compile(r"^(?=.*\d)(?=.*[a-zA-Z])[A-Za-z0-9_\-+=]{24,}$"),  # long random string
)


def test_no_configmap_holds_a_secret_like_name_or_value(objects):
    for configmap in by_kind(objects, "ConfigMap"):
        for key, value in configmap["data"].items():
            assert not SECRET_NAME_WORDS.search(key), key
            for line in value.splitlines():
                assert not any(shape.search(line.strip()) for shape in SECRET_VALUE_SHAPES), key


def test_a_secret_value_in_the_values_file_is_refused():
    values = values_with(settings={**VALUES["settings"], "KLARTEXT_SECRET": "s3cr3t"})
    with pytest.raises(rm.ValuesError, match="KLARTEXT_SECRET"):
        rm.render_documents(values)


def test_an_unknown_setting_in_the_values_file_is_refused():
    values = values_with(settings={**VALUES["settings"], "KLARTEXT_NO_SUCH_THING": "1"})
    with pytest.raises(rm.ValuesError, match="KLARTEXT_NO_SUCH_THING"):
        rm.render_documents(values)


def test_pods_get_every_setting_from_configmap_and_secret(objects):
    for workload in [o for o in objects if o["kind"] in WORKLOAD_KINDS]:
        for container in pod_spec(workload)["containers"]:
            sources = container["envFrom"]
            assert {"configMapRef": {"name": "klartext-settings"}} in sources
            assert {"secretRef": {"name": "klartext-secrets"}} in sources


def test_rasa_gets_endpoints_with_the_action_service(objects):
    data = one(objects, "ConfigMap", "klartext-endpoints")["data"]["endpoints.yml"]
    endpoints = yaml.safe_load(data)
    repository = yaml.safe_load((rm.ENDPOINTS_FILE).read_text(encoding="utf-8"))
    port = VALUES["actions"]["port"]
    assert endpoints["action_endpoint"]["url"] == f"http://klartext-actions:{port}/webhook"
    assert {k: v for k, v in endpoints.items() if k != "action_endpoint"} == {
        k: v for k, v in repository.items() if k != "action_endpoint"
    }
    mounts = pod_spec(one(objects, "Deployment", "klartext-rasa"))["containers"][0]
    assert {
        "name": "endpoints",
        "mountPath": "/app/endpoints.yml",
        "subPath": "endpoints.yml",
        "readOnly": True,
    } in mounts["volumeMounts"]


# ------------------------------------------------------------------ pods
def test_every_server_container_has_readiness_and_liveness_probes(objects):
    expected = {"klartext-rasa": "/", "klartext-actions": "/health"}
    for deployment in by_kind(objects, "Deployment"):
        for container in pod_spec(deployment)["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                http = container[probe]["httpGet"]
                assert http["path"] == expected[deployment["metadata"]["name"]]
                assert http["port"] == "http"
            assert container["ports"][0]["name"] == "http"


def test_every_workload_runs_as_non_root_with_a_read_only_root(objects):
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    assert len(workloads) == 4
    for workload in workloads:
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert container["resources"]["requests"] and container["resources"]["limits"]
            writable = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert {"/tmp", VALUES["settings"]["KLARTEXT_VAR_DIR"]} <= writable


def test_autoscalers_and_budgets_target_the_deployments(objects):
    deployments = {d["metadata"]["name"]: d for d in by_kind(objects, "Deployment")}
    for hpa in by_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2
    for pdb in by_kind(objects, "PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        matched = [
            name
            for name, d in deployments.items()
            if labels_match(selector, d["spec"]["template"]["metadata"]["labels"])
        ]
        assert matched == [pdb["metadata"]["name"]]


def test_services_select_their_deployments(objects):
    for service in by_kind(objects, "Service"):
        deployment = one(objects, "Deployment", service["metadata"]["name"])
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels_match(service["spec"]["selector"], labels)
        assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_jobs_run_the_real_coach_commands(objects):
    from bot.cli import build_parser

    job = by_kind(objects, "Job")[0]
    cron = one(objects, "CronJob", "klartext-purge")
    commands = [
        pod_spec(job)["containers"][0]["command"],
        pod_spec(cron)["containers"][0]["command"],
    ]
    assert commands == [["coach", "db", "upgrade"], ["coach", "purge"]]
    for command in commands:
        assert callable(build_parser().parse_args(command[1:]).func)


@pytest.mark.parametrize(
    "image, suffix",
    [
        ("registry.example.org/klartext/actions:1.0.0", "1-0-0"),
        ("registry:5000/klartext/actions:2024.05_RC1", "2024-05-rc1"),
        ("registry:5000/klartext/actions", "latest"),
        ("registry.example.org/actions@sha256:" + "ab12" * 16, "ab12ab12ab12"),
    ],
)
def test_the_migration_job_is_named_after_the_release(image, suffix):
    objects = rm.render_objects(values_with(images__actions=image), FAKE_SECRETS)
    (job,) = by_kind(objects, "Job")
    assert job["metadata"]["name"] == f"klartext-db-upgrade-{suffix}"
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", job["metadata"]["name"])


# ------------------------------------------------------------------ ingress
def ingress_paths(objects):
    (ingress,) = by_kind(objects, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    return ingress, rule["http"]["paths"]


def test_the_ingress_exposes_only_channel_webhooks_and_the_web_chat(all_channels_objects):
    ingress, paths = ingress_paths(all_channels_objects)
    assert {(p["path"], p["pathType"]) for p in paths} == ALLOWED_INGRESS_PATHS
    for path in paths:
        assert path["backend"] == {"service": {"name": "klartext-rasa", "port": {"name": "http"}}}
    assert ingress["spec"]["tls"][0]["hosts"] == [VALUES["ingress"]["host"]]


def test_disabled_channels_are_not_exposed(objects):
    _, paths = ingress_paths(objects)
    exposed = {p["path"] for p in paths}
    assert "/webhooks/slack/webhook" not in exposed
    assert "/webhooks/teams/webhook" not in exposed
    assert "/socket.io" in exposed


def test_socket_io_sessions_stick_to_one_pod(objects):
    ingress, _ = ingress_paths(objects)
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert annotations["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"


def test_an_unknown_channel_is_refused():
    values = values_with(ingress__channels={**ALL_CHANNELS, "fax": True})
    with pytest.raises(rm.ValuesError, match="fax"):
        rm.render_documents(values)


# ------------------------------------------------------------------ network policies
def policies_for(objects, pod_labels):
    return [
        policy
        for policy in by_kind(objects, "NetworkPolicy")
        if labels_match(policy["spec"]["podSelector"].get("matchLabels", {}), pod_labels)
    ]


def test_only_rasa_pods_reach_the_action_server_port(objects):
    actions = one(objects, "Deployment", "klartext-actions")
    rasa = one(objects, "Deployment", "klartext-rasa")
    rasa_labels = rasa["spec"]["template"]["metadata"]["labels"]
    actions_labels = actions["spec"]["template"]["metadata"]["labels"]
    policies = policies_for(objects, actions_labels)
    assert policies and all("Ingress" in p["spec"]["policyTypes"] for p in policies)
    rules = [rule for policy in policies for rule in policy["spec"].get("ingress", [])]
    assert rules, "no rule admits anything to the action server"
    for rule in rules:
        assert rule["ports"] == [{"protocol": "TCP", "port": VALUES["actions"]["port"]}]
        assert rule["from"]
        for peer in rule["from"]:
            assert set(peer) == {"podSelector"}, peer
            selector = peer["podSelector"]["matchLabels"]
            assert labels_match(selector, rasa_labels)
            assert not labels_match(selector, actions_labels)


def test_rasa_pods_are_reached_only_from_the_ingress_controller(objects):
    rasa = one(objects, "Deployment", "klartext-rasa")
    policies = policies_for(objects, rasa["spec"]["template"]["metadata"]["labels"])
    rules = [rule for policy in policies for rule in policy["spec"].get("ingress", [])]
    namespace = VALUES["ingress"]["controller_namespace"]
    assert rules == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
            ],
            "ports": [{"protocol": "TCP", "port": VALUES["rasa"]["port"]}],
        }
    ]


# ------------------------------------------------------------------ command line
def test_the_command_line_writes_one_file_per_object_with_the_env_file(tmp_path, capsys):
    env_file = tmp_path / "prod.env"
    env_file.write_text("KLARTEXT_WEBCHAT_SECRET=from-the-env-file-0123456789\n")
    out = tmp_path / "rendered"
    assert rm.main(["--env-file", str(env_file), "--out", str(out)]) == 0
    files = sorted(path.name for path in out.iterdir())
    assert len(files) == len(rm.render_documents(VALUES))
    secret = yaml.safe_load((out / "secret-klartext-secrets.yaml").read_text())
    assert secret["stringData"]["KLARTEXT_WEBCHAT_SECRET"] == "from-the-env-file-0123456789"
    assert "KLARTEXT_DATABASE_URL is empty" in capsys.readouterr().err


def test_the_command_line_can_leave_out_the_secret(capsys):
    assert rm.main(["--skip-secret"]) == 0
    kinds = [doc["kind"] for doc in yaml.safe_load_all(capsys.readouterr().out)]
    assert "Secret" not in kinds and "Deployment" in kinds
