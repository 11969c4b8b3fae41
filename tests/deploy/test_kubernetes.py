"""deploy/kubernetes: every manifest valid for the Kubernetes versions we support, the
kustomizations complete, and the Deployment consistent with the app it runs (probes on
routes the app serves, its port, real settings, a grace period past the app's drain)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import kubernetes_validate
import pytest
import yaml

from gateway.app import create_app
from gateway.config import Settings
from tests.deploy.files import (
    DEPLOY,
    SETTINGS_VARIABLES,
    dockerfile,
    yaml_documents,
)
from tests.gateway.conftest import gateway_settings
from tests.support import RunningEmulator, serving

KUBERNETES = DEPLOY / "kubernetes"
BASE = KUBERNETES / "base"
PRODUCTION = KUBERNETES / "overlays" / "production"
SCALED = KUBERNETES / "overlays" / "scaled"
REDIS = KUBERNETES / "components" / "redis"
EXTERNAL_REDIS = KUBERNETES / "components" / "external-redis"
# The oldest release we support (native preStop sleep is on by default from 1.30) and the
# newest kubernetes-validate knows.
VERSIONS = ("1.32.0", "1.37.0")
SECRET = ("chargeye-gateway", "cursor-secret")


def kustomization(directory: Path) -> dict[str, Any]:
    [document] = yaml_documents(directory / "kustomization.yaml")
    return document


def base_manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (BASE / name, document)
        for name in kustomization(BASE)["resources"]
        for document in yaml_documents(BASE / name)
    ]


def render(directory: Path) -> list[dict[str, Any]]:
    """What `kubectl apply -k directory` would send, rendered by kubectl's own kustomize."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not on PATH: it renders the kustomizations (kubectl kustomize)"
    out = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    return [document for document in yaml.safe_load_all(out) if document]


def of_kind(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    [found] = [d for d in documents if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    return found


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    [found] = deployment["spec"]["template"]["spec"]["containers"]
    return found


def probes(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: container(deployment)[name]
        for name in ("startupProbe", "livenessProbe", "readinessProbe")
    }


def config(documents: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = of_kind(documents, "ConfigMap")["data"]
    return data


def flat(text: str) -> str:
    """Shell text as one line: continuations joined, comment markers and runs of space gone."""
    text = re.sub(r"^\s*# ?", "", text, flags=re.MULTILINE).replace("\\\n", " ")
    return " ".join(text.split())


def validate(document: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_base_manifest_is_valid_on_its_own(version: str) -> None:
    manifests = base_manifests()
    assert {d["kind"] for _, d in manifests} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    for _, document in manifests:
        validate(document, version)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("directory", [BASE, PRODUCTION], ids=["base", "production"])
def test_the_rendered_kustomizations_are_valid(directory: Path, version: str) -> None:
    rendered = render(directory)
    assert len(rendered) == 5
    for document in rendered:
        validate(document, version)


def test_the_validator_refuses_a_broken_manifest() -> None:
    # Guards the tests above against a validator that lets anything through.
    deployment = of_kind([d for _, d in base_manifests()], "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container(broken)["ports"][0]["containerPort"] = "eight thousand"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken, VERSIONS[0])
    del broken["spec"]["selector"]
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken, VERSIONS[0])


def test_the_kustomizations_list_exactly_the_files_beside_them() -> None:
    listed = kustomization(BASE)["resources"]
    beside = sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == beside  # no file forgotten, none missing
    overlay = kustomization(PRODUCTION)
    for resource in overlay["resources"]:
        assert (PRODUCTION / resource / "kustomization.yaml").is_file()
    patches = [PRODUCTION / patch["path"] for patch in overlay["patches"]]
    beside = sorted(p for p in PRODUCTION.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(patches) == beside
    # Each patch names an object the base has, or kustomize would refuse it.
    targets = {(d["kind"], d["metadata"]["name"]) for _, d in base_manifests()}
    for path in patches:
        [patch] = yaml_documents(path)
        assert (patch["kind"], patch["metadata"]["name"]) in targets, path


def test_selectors_and_references_meet_the_pods() -> None:
    documents = [d for _, d in base_manifests()]
    deployment = of_kind(documents, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert of_kind(documents, "Service")["spec"]["selector"].items() <= labels.items()
    pdb = of_kind(documents, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = of_kind(documents, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    [env_from] = container(deployment)["envFrom"]
    assert env_from["configMapRef"]["name"] == of_kind(documents, "ConfigMap")["metadata"]["name"]


def test_the_container_port_is_gateway_port_and_the_service_targets_it() -> None:
    documents = [d for _, d in base_manifests()]
    [port] = container(of_kind(documents, "Deployment"))["ports"]
    assert port["containerPort"] == int(config(documents)["GATEWAY_PORT"])
    [service_port] = of_kind(documents, "Service")["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    for probe in probes(of_kind(documents, "Deployment")).values():
        assert probe["httpGet"]["port"] == port["name"]


def test_every_configured_variable_is_a_setting_and_parses() -> None:
    documents = [d for _, d in base_manifests()]
    data = config(documents)
    assert set(data) <= SETTINGS_VARIABLES
    Settings.from_env(data)  # a value of the wrong type fails here
    named = [e["name"] for e in container(of_kind(documents, "Deployment"))["env"]]
    for path in PRODUCTION.glob("*-patch.yaml"):
        [patch] = yaml_documents(path)
        for item in patch["spec"].get("template", {}).get("spec", {}).get("containers", []):
            named += [e["name"] for e in item.get("env", [])]
    assert set(named) <= SETTINGS_VARIABLES


def test_the_cursor_secret_comes_from_a_secret_that_is_not_committed() -> None:
    documents = [d for _, d in base_manifests()]
    env = {e["name"]: e for e in container(of_kind(documents, "Deployment"))["env"]}
    reference = env["GATEWAY_CURSOR_SECRET"]["valueFrom"]["secretKeyRef"]
    assert (reference["name"], reference["key"]) == SECRET
    assert "value" not in env["GATEWAY_CURSOR_SECRET"]
    assert all(d["kind"] != "Secret" for d in render(PRODUCTION))
    # Its creation is documented where the manifests are applied from.
    command = f"kubectl create secret generic {SECRET[0]} --from-literal={SECRET[1]}="
    for path in (BASE / "kustomization.yaml", DEPLOY.parent / "docs" / "DEPLOY.md"):
        assert command in flat(path.read_text()), path


def test_the_pod_is_unprivileged_with_a_read_only_root() -> None:
    documents = [d for _, d in base_manifests()]
    deployment = of_kind(documents, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    security = container(deployment)["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # The image's own user, so the files it owns in the image are its.
    [user] = [i.arguments for i in dockerfile() if i.keyword == "USER"]
    assert str(pod["securityContext"]["runAsUser"]) == user.split(":")[0]
    # With workers, the multiprocess metrics directory is a writable, per-pod emptyDir.
    metrics_dir = config(documents)["GATEWAY_METRICS_MULTIPROCESS_DIR"]
    mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[metrics_dir]]


def test_the_grace_period_outlasts_the_drain() -> None:
    documents = [d for _, d in base_manifests()]
    deployment = of_kind(documents, "Deployment")
    shutdown = int(config(documents)["GATEWAY_SHUTDOWN_TIMEOUT_S"])
    pre_stop = container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > shutdown + pre_stop


def test_the_production_overlay_sets_image_replicas_and_its_patch() -> None:
    rendered = render(PRODUCTION)
    deployment = of_kind(rendered, "Deployment")
    overlay = kustomization(PRODUCTION)
    [image] = overlay["images"]
    assert container(deployment)["image"] == f"{image['newName']}:{image['newTag']}"
    [replicas] = overlay["replicas"]
    assert deployment["spec"]["replicas"] == replicas["count"]
    # An apply must not set fewer pods than the HPA's floor, or it scales back up at once.
    assert of_kind(rendered, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == replicas["count"]
    env = {e["name"]: e.get("value") for e in container(deployment)["env"]}
    assert env["GATEWAY_WORKERS"] == "4"
    assert {d["metadata"].get("namespace") for d in rendered} == {overlay["namespace"]}


async def test_every_probe_asks_a_route_the_app_answers(emulator: RunningEmulator) -> None:
    deployment = of_kind([d for _, d in base_manifests()], "Deployment")
    paths = {name: probe["httpGet"]["path"] for name, probe in probes(deployment).items()}
    assert paths == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",  # the process alone: an upstream outage restarts nothing
        "readinessProbe": "/readyz",
    }
    app = create_app(gateway_settings(emulator.url))
    async with serving(app) as base, httpx.AsyncClient() as http:
        for path in paths.values():
            response = await http.get(f"{base}{path}")
            assert response.status_code == 200, (path, response.text)
    # Readiness really depends on the upstream: without one the pod leaves the Service.
    app = create_app(gateway_settings("http://127.0.0.1:9"))
    async with serving(app) as base, httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/readyz")).status_code == 503
        assert (await http.get(f"{base}/healthz")).status_code == 200


# The Redis option: components/redis (in the cluster) or components/external-redis (its
# URL from the Secret), and overlays/scaled, production with the in-cluster one.

GATEWAY, REDIS_NAME = "chargeye-gateway", "chargeye-redis"


def with_external_redis(tmp_path: Path) -> list[dict[str, Any]]:
    """Production with the external-Redis component, as its comment tells one to use it."""
    relative = Path(os.path.relpath(KUBERNETES, tmp_path))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [str(relative / "overlays" / "production")],
                "components": [str(relative / "components" / "external-redis")],
            }
        )
    )
    return render(tmp_path)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_scaled_overlay_and_both_redis_options_render_valid(
    version: str, tmp_path: Path
) -> None:
    scaled = render(SCALED)
    assert sorted((d["kind"], d["metadata"]["name"]) for d in scaled) == sorted(
        [(d["kind"], d["metadata"]["name"]) for d in render(PRODUCTION)]
        + [("Deployment", REDIS_NAME), ("Service", REDIS_NAME), ("NetworkPolicy", REDIS_NAME)]
    )
    external = with_external_redis(tmp_path)
    assert len(external) == 5  # nothing added but the gateway's reference to the Secret
    for document in [*scaled, *external]:
        validate(document, version)
    assert {d["metadata"].get("namespace") for d in scaled} == {"chargeye"}


def test_the_components_list_exactly_the_files_beside_them() -> None:
    for directory in (REDIS, EXTERNAL_REDIS):
        component = kustomization(directory)
        assert component["kind"] == "Component"
        listed = component.get("resources", []) + [p["path"] for p in component["patches"]]
        beside = [p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml"]
        assert sorted(listed) == sorted(beside), directory
    overlay = kustomization(SCALED)
    assert [(SCALED / path).resolve() for path in overlay["resources"]] == [PRODUCTION]
    assert [(SCALED / path).resolve() for path in overlay["components"]] == [REDIS]


def test_scaled_gateways_are_several_and_share_the_cursor_secret_and_redis() -> None:
    rendered = render(SCALED)
    deployment = of_kind(rendered, "Deployment", GATEWAY)
    assert deployment["spec"]["replicas"] > 1
    assert of_kind(rendered, "HorizontalPodAutoscaler")["spec"]["minReplicas"] > 1
    env = {e["name"]: e for e in container(deployment)["env"]}
    reference = env["GATEWAY_CURSOR_SECRET"]["valueFrom"]["secretKeyRef"]
    assert (reference["name"], reference["key"]) == SECRET
    assert all(d["kind"] != "Secret" for d in rendered)
    data = config(rendered)
    assert set(data) <= SETTINGS_VARIABLES
    settings = Settings.from_env(data)
    assert settings.rate_limit_per_minute > 0 and settings.response_cache
    # The URL names the Redis Service, on the port it serves.
    url = urlsplit(settings.redis_url)
    service = of_kind(rendered, "Service", REDIS_NAME)
    [port] = service["spec"]["ports"]
    assert (url.scheme, url.hostname, url.port) == ("redis", REDIS_NAME, port["port"])


def test_the_external_redis_url_comes_from_the_secret(tmp_path: Path) -> None:
    rendered = with_external_redis(tmp_path)
    deployment = of_kind(rendered, "Deployment", GATEWAY)
    env = {e["name"]: e for e in container(deployment)["env"]}
    assert set(env) <= SETTINGS_VARIABLES
    assert "value" not in env["GATEWAY_REDIS_URL"]
    reference = env["GATEWAY_REDIS_URL"]["valueFrom"]["secretKeyRef"]
    assert (reference["name"], reference["key"]) == (SECRET[0], "redis-url")
    # The patch adds to the base's env, it does not replace the cursor secret.
    assert env["GATEWAY_CURSOR_SECRET"]["valueFrom"]["secretKeyRef"]["key"] == SECRET[1]
    assert "GATEWAY_REDIS_URL" not in config(rendered)
    # How to add the key is documented beside the component and in docs/DEPLOY.md.
    for path in (EXTERNAL_REDIS / "kustomization.yaml", DEPLOY.parent / "docs" / "DEPLOY.md"):
        assert "--from-literal=redis-url=" in flat(path.read_text()), path


def test_redis_is_unprivileged_probed_bounded_and_reached_by_the_gateway_only() -> None:
    rendered = render(SCALED)
    redis = of_kind(rendered, "Deployment", REDIS_NAME)
    gateway = of_kind(rendered, "Deployment", GATEWAY)
    pod = redis["spec"]["template"]["spec"]
    labels = redis["spec"]["template"]["metadata"]["labels"]
    assert redis["spec"]["replicas"] == 1 and redis["spec"]["strategy"]["type"] == "Recreate"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    box = container(redis)
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+-\w+", box["image"]), box["image"]
    security = box["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # Nothing on disk; memory bounded below the container's limit.
    args = box["args"]
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no"
    assert int(args[args.index("--maxmemory") + 1].removesuffix("mb")) * 2**20 < 256 * 2**20
    assert box["resources"]["limits"]["memory"] == "256Mi"
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert box[name]["exec"]["command"] == ["redis-cli", "ping"]
    mounts = {m["mountPath"]: m["name"] for m in box["volumeMounts"]}
    assert "emptyDir" in {v["name"]: v for v in pod["volumes"]}[mounts["/data"]]
    [port] = box["ports"]
    service = of_kind(rendered, "Service", REDIS_NAME)
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    # Only the gateway's pods may connect, on that port.
    policy = of_kind(rendered, "NetworkPolicy")["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    [rule] = policy["ingress"]
    [source] = rule["from"]
    gateway_labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert source["podSelector"]["matchLabels"].items() <= gateway_labels.items()
    assert [p["port"] for p in rule["ports"]] == [port["name"]]
