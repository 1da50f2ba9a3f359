"""`manage.py check --deploy` is clean with the production settings that docs/deploy.md gives.

The environment comes from the ```env block of the doc's "Production settings" section, so the documented
values are the tested ones. Before, SECURE_SSL_REDIRECT (W008) and SECURE_HSTS_PRELOAD (W021) could not be
set and the check always warned.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def documented_production_env() -> dict[str, str]:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    section = doc.split("\n## Production settings\n", 1)[1]
    block = re.search(r"```env\n(.*?)```", section, re.S).group(1)
    return dict(line.split("=", 1) for line in block.splitlines() if line.strip())


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    # Not the test session's own settings: DJANGO_ALLOW_ASYNC_UNSAFE (set for Playwright) is itself an error.
    ours = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_the_documented_production_settings_pass_the_deploy_check():
    env = documented_production_env()
    assert env["DEBUG"] == "false" and env["SECURE_SSL_REDIRECT"] == "true" and env["SECURE_HSTS_PRELOAD"] == "true"
    env["SECRET_KEY"] = secrets.token_urlsafe(50)  # the doc's is a placeholder; a real key is random

    result = check_deploy(env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_without_them_the_check_names_what_is_missing():
    """The check is not vacuous: leave the two new settings at their defaults and it warns about both."""
    env = documented_production_env()
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    del env["SECURE_SSL_REDIRECT"], env["SECURE_HSTS_PRELOAD"]

    result = check_deploy(env)

    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W021" in result.stderr
