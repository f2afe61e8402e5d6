"""The Kubernetes manifests and the compose file hold up: schema-valid, and what a bank's cluster needs.

No Kubernetes API server or Docker engine runs here. Every Kubernetes document is validated against the
Kubernetes 1.29 API schemas in strict mode (kubernetes-validate ships them: no network), and both files are
read for what matters in production: exactly one beat, two pollers, bounded Celery workers, resources and a
non-root, read-only root filesystem on every container, probes on the right paths, attachments on storage
every web and worker replica shares, an Ingress with TLS, and no usable secret in any file.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))
KUBERNETES_VERSION = "1.29.0"
PLACEHOLDER = "<set-me>"
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY\b|_KEY_ID\b", re.I)


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.fixture(scope="module")
def cluster() -> dict[tuple[str, str], dict]:
    """{(kind, name): document} of the manifest `kubectl apply -f deploy/kubernetes/opsdesk.yaml` applies."""
    return {(d["kind"], d["metadata"]["name"]): d for d in documents(KUBERNETES / "opsdesk.yaml")}


def workloads(cluster) -> dict[str, dict]:
    """{name: pod spec} of every Deployment and Job."""
    return {name: d["spec"]["template"]["spec"] for (kind, name), d in cluster.items() if kind in {"Deployment", "Job"}}


def containers(cluster):
    for name, pod in workloads(cluster).items():
        for container in pod.get("initContainers", []) + pod["containers"]:
            yield name, pod, container


def mounts(pod: dict, container: dict) -> dict[str, dict]:
    """{mount path: volume} of a container."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    return {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}


def flag(argv: list[str], name: str) -> str:
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


# --- Kubernetes ------------------------------------------------------------------------------------------------

def test_every_kubernetes_document_is_valid_for_kubernetes_1_29_in_strict_mode():
    result = subprocess.run([str(Path(sys.executable).with_name("kubernetes-validate")), "--strict",
                             "--kubernetes-version", KUBERNETES_VERSION, *map(str, MANIFESTS)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(documents(path)) for path in MANIFESTS)
    assert result.stdout.count(f"against version {KUBERNETES_VERSION.rsplit('.', 1)[0]}") == count >= 14


def test_the_schema_check_catches_a_misspelt_field(cluster):
    web = copy.deepcopy(cluster[("Deployment", "opsdesk-web")])
    assert kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True) == "1.29"
    web["spec"]["replicsa"] = web["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError, match="replicsa"):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


def test_exactly_one_beat_two_pollers_and_bounded_workers(cluster):
    beat = cluster[("Deployment", "opsdesk-beat")]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    pod = beat["spec"]["template"]["spec"]
    schedule = flag(pod["containers"][0]["command"], "--schedule")
    # The schedule file is written at run time: on a writable emptyDir, not the read-only image.
    assert any(schedule.startswith(path + "/") and "emptyDir" in volume
               for path, volume in mounts(pod, pod["containers"][0]).items())

    poller = cluster[("Deployment", "opsdesk-poller")]
    assert poller["spec"]["replicas"] == 2
    assert poller["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "poll_alerts"

    worker = cluster[("Deployment", "opsdesk-worker")]["spec"]["template"]["spec"]["containers"][0]
    assert int(flag(worker["command"], "--concurrency")) >= 1
    per_child_kib = int(flag(worker["command"], "--max-memory-per-child"))
    limit = worker["resources"]["limits"]["memory"]
    assert limit.endswith("Gi") or limit.endswith("Mi")
    limit_kib = int(limit[:-2]) * (1024 * 1024 if limit.endswith("Gi") else 1024)
    assert per_child_kib * int(flag(worker["command"], "--concurrency")) < limit_kib


def test_every_container_has_resources_and_runs_as_non_root_on_a_read_only_root(cluster):
    seen = set()
    for name, pod, container in containers(cluster):
        seen.add(name)
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)
        security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        # Python, gunicorn and Celery need a writable /tmp (uploads in progress, the Prometheus
        # multiprocess directory /tmp/prometheus).
        assert "emptyDir" in mounts(pod, container)["/tmp"], name
    assert seen == {"opsdesk-migrate", "opsdesk-web", "opsdesk-worker", "opsdesk-beat", "opsdesk-poller"}


def test_web_probes_reach_the_health_paths_on_the_served_port(cluster):
    web = cluster[("Deployment", "opsdesk-web")]["spec"]["template"]["spec"]["containers"][0]
    port = {p["name"]: p["containerPort"] for p in web["ports"]}
    assert port == {"http": 8000}
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    startup = web["startupProbe"]
    # The workers' shared metrics directory is on the writable /tmp emptyDir.
    pod = cluster[("Deployment", "opsdesk-web")]["spec"]["template"]["spec"]
    multiproc = {e["name"]: e["value"] for e in web["env"]}["PROMETHEUS_MULTIPROC_DIR"]
    assert multiproc.startswith("/tmp/") and "emptyDir" in mounts(pod, web)["/tmp"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30
    # The probe paths are the desk's own.
    from django.urls import resolve

    assert resolve("/healthz").url_name and resolve("/readyz").url_name


def test_attachments_are_on_a_read_write_many_claim_in_web_and_worker(cluster):
    claim = cluster[("PersistentVolumeClaim", "opsdesk-media")]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    media_root = cluster[("ConfigMap", "opsdesk-config")]["data"]["OPSDESK_MEDIA_ROOT"]
    for name in ("opsdesk-web", "opsdesk-worker"):
        pod = workloads(cluster)[name]
        volume = mounts(pod, pod["containers"][0])[media_root]
        assert volume["persistentVolumeClaim"]["claimName"] == "opsdesk-media", name


def test_disruption_budgets_keep_web_workers_and_a_poller_up(cluster):
    deployments = {name: d for (kind, name), d in cluster.items() if kind == "Deployment"}
    budgets = {name: d["spec"] for (kind, name), d in cluster.items() if kind == "PodDisruptionBudget"}
    assert set(budgets) == {"opsdesk-web", "opsdesk-worker", "opsdesk-poller"}
    for name, budget in budgets.items():
        spec = deployments[name]["spec"]
        assert budget["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
        # A budget that allows no disruption at all would block every node drain.
        assert budget.get("minAvailable", 0) < spec["replicas"] and budget.get("maxUnavailable", 1) >= 1


def test_the_ingress_ends_tls_for_the_allowed_host_and_lets_attachments_through(cluster):
    from django.conf import settings

    ingress = cluster[("Ingress", "opsdesk")]
    host = cluster[("ConfigMap", "opsdesk-config")]["data"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "opsdesk-tls"}]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == host
    backend = rule["http"]["paths"][0]["backend"]["service"]
    service = cluster[("Service", backend["name"])]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    body = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert body.endswith("m") and int(body[:-1]) * 1024 * 1024 > settings.OPSDESK_ATTACHMENT_MAX_BYTES


def test_no_file_carries_a_usable_secret(cluster):
    assert not [key for key in cluster if key[0] == "Secret"], "opsdesk.yaml must not overwrite the real Secret"
    for key in cluster[("ConfigMap", "opsdesk-config")]["data"]:
        assert not SECRET_WORDS.search(key), f"{key} belongs in the Secret"
    for name, _, container in containers(cluster):
        for env in container.get("env", []):
            assert not SECRET_WORDS.search(env["name"]) or "valueFrom" in env, (name, env["name"])
        assert {"secretRef": {"name": "opsdesk-env"}} in container["envFrom"], name
        assert {"configMapRef": {"name": "opsdesk-config"}} in container["envFrom"], name
    template = documents(KUBERNETES / "secret.example.yaml")
    assert [d["kind"] for d in template] == ["Secret"] and template[0]["metadata"]["name"] == "opsdesk-env"
    for key, value in template[0]["stringData"].items():
        assert value in {PLACEHOLDER, ""}, f"{key} carries a value"


@pytest.mark.parametrize(("real", "named"), [
    ({}, "DJANGO_SECRET_KEY"),
    ({"DJANGO_SECRET_KEY": "k" + "ab1-" * 16}, "DATABASE_URL"),
])
def test_the_desk_refuses_the_secret_template_as_shipped(real, named):
    """An operator who applies the template unchanged gets one line naming what to set, not a desk that runs
    on a placeholder."""
    values = documents(KUBERNETES / "secret.example.yaml")[0]["stringData"]
    env = {k: v for k, v in os.environ.items() if k not in values and not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update({k: v for k, v in values.items() if v}, **real)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in result.stderr, result.stderr


# --- compose ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def test_compose_runs_one_beat_two_pollers_and_bounded_workers(compose):
    services = compose["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["poller"]["deploy"]["replicas"] == 2
    worker = services["worker"]["command"]
    assert flag(worker, "--concurrency") == "${CELERY_CONCURRENCY:-2}"
    assert int(flag(worker, "--max-memory-per-child")) > 0
    beat_schedule = flag(services["beat"]["command"], "--schedule")
    assert any(beat_schedule.startswith(v.split(":", 1)[1] + "/") for v in services["beat"]["volumes"])


def test_compose_shares_attachments_between_web_and_workers_on_a_named_volume(compose):
    media_root = compose["services"]["web"]["environment"]["OPSDESK_MEDIA_ROOT"]
    for name in ("web", "worker"):
        assert f"media:{media_root}" in compose["services"][name]["volumes"], name
    assert "media" in compose["volumes"]


def test_compose_bounds_every_service_and_keeps_the_image_read_only(compose):
    for name, service in compose["services"].items():
        limits = service["deploy"]["resources"]["limits"]
        assert "memory" in limits, name
        if service.get("image", "").startswith("opsdesk"):
            assert service["read_only"] is True and "/tmp" in service["tmpfs"], name


def test_compose_carries_no_secret_value(compose):
    """Secrets come from the operator's environment; compose stops with a message when one is missing."""
    required = re.compile(r"^\$\{[A-Z_]+:\?[^}]+\}$")
    env = compose["services"]["web"]["environment"]
    assert required.match(env["DJANGO_SECRET_KEY"])
    assert required.match(compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"])
    password = re.match(r"postgresql://[^:]+:([^@]+)@", env["DATABASE_URL"]).group(1)
    assert required.match(password)
    for key, value in env.items():
        if SECRET_WORDS.search(key):
            assert str(value).startswith("${"), key
