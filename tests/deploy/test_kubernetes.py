"""deploy/kubernetes: every manifest valid for the Kubernetes versions we support, the
kustomizations complete, and the Deployment consistent with the app it runs (probes on
routes the app serves, its port, real settings, a grace period past the app's drain)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

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


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [d for d in documents if d["kind"] == kind]
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
