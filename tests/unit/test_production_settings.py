"""Settings with DEBUG off: the app refuses to start without a SECRET_KEY, and starts with one."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update({"DEBUG": "false", **extra})
    return env


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = manage("check", env=production_env())

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_starts_with_debug_off_when_secret_key_is_given():
    result = manage("check", env=production_env(SECRET_KEY="x" * 60))

    assert result.returncode == 0, result.stderr
