"""Regenerate the README's screenshots (docs/screenshots/) from the real app: a throwaway SQLite database and media
folder, an embedded Redis, Daphne, a Celery worker and headless Chromium, as a new user goes from build to train
to try.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.embedded_redis import EmbeddedRedis  # noqa: E402 (the project root is put on sys.path first)

VIEWPORT = {"width": 1440, "height": 900}
USER, PASSWORD = "ada", "a long and unusual passphrase"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="netbuilder-shots-") as tmp:
        redis = EmbeddedRedis()
        redis.start()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3", "MEDIA_ROOT": f"{tmp}/media",
               "REDIS_URL": redis.url, "TRAIN_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        os.environ.update(env)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
        subprocess.run([*manage, "shell", "-c", "from django.contrib.auth.models import User; "
                        f"User.objects.create_user({USER!r}, password={PASSWORD!r})"], env=env, cwd=ROOT, check=True)
        from tests.services import Server, Worker

        server, worker = Server(env), Worker(env)
        server.start()
        worker.start()
        try:
            shoot(server.url, args.out)
        finally:
            worker.stop()
            server.stop()
            redis.stop()


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.test_journey import draw_a_one

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_context(base_url=url, viewport=VIEWPORT).new_page()
        page.set_default_timeout(60_000)
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("example-vit_tiny")).to_be_visible()

        # Build: the ViT-tiny example in the editor, every node with its shape and the names of its axes.
        page.get_by_test_id("example-vit_tiny").click()
        expect(page.get_by_test_id("total-params")).to_have_text("18,218")
        page.screenshot(path=out / "editor.png")  # also the journey's first picture

        # Train: on the built-in digits, live curves.
        page.get_by_test_id("train").click()
        page.get_by_test_id("dataset-select").select_option("digits")
        expect(page.get_by_test_id("fit-status")).to_have_attribute("data-fits", "true")
        page.get_by_test_id("config-epochs").fill("30")
        page.get_by_test_id("config-lr").fill("0.002")
        page.get_by_test_id("config-batch_size").fill("64")
        page.get_by_test_id("start-button").click()
        expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded", timeout=300_000)
        page.screenshot(path=out / "dashboard.png", full_page=True)
        page.screenshot(path=out / "journey-2-train.png")

        # Try: a validation sample, and what the model says of it.
        draw_a_one(page)
        page.get_by_test_id("predict-button").click()
        expect(page.get_by_test_id("prediction")).to_have_attribute("data-predicted", re.compile(r"^\d$"))
        page.screenshot(path=out / "journey-3-try.png")
        browser.close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
