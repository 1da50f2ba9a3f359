"""docker-compose.yml describes the stack docs/deploy.md promises, and docker-compose accepts it."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_its_services_with_health_checks_and_volumes():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "web", "worker-cpu", "worker-gpu", "flower"} <= set(services)
    for name in ("postgres", "redis", "web", "worker-cpu", "worker-gpu"):
        assert services[name]["healthcheck"]["test"], name
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in ("web", "worker-cpu", "worker-gpu"):  # artifacts are shared by the server and the workers
        assert "media:/app/var/media" in services[name]["volumes"]
        assert services[name]["environment"]["DATABASE_URL"].startswith("${DATABASE_URL:-postgres://")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["flower"]["profiles"] == ["monitoring"]


def test_the_gpu_worker_reserves_a_gpu_and_takes_one_run_at_a_time():
    gpu = COMPOSE["services"]["worker-gpu"]
    [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    assert gpu["command"].startswith("python manage.py worker")  # device-derived queues, concurrency 1
    assert "-Q cpu" in COMPOSE["services"]["worker-cpu"]["command"]


def test_the_environment_example_names_every_variable_the_stack_reads():
    example = (ROOT / ".env.example").read_text()
    for variable in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "POSTGRES_PASSWORD"):
        assert f"\n{variable}=" in example


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed (.ci/run installs it)")
def test_docker_compose_accepts_the_file():
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "--env-file",
                             str(ROOT / ".env.example"), "config", "-q"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
