"""python manage.py worker [celery worker options]

Starts a Celery worker for this machine's device: the `cpu` queue on a CPU, else every GPU memory tier the
card can hold (training/devices.py), with one run at a time. Start one per GPU, each with its own
CUDA_VISIBLE_DEVICES. Options given (-Q, --concurrency, -n, ...) are passed to `celery worker` as they are.
"""

import json
import os
import shutil
import sys

from django.core.management.base import BaseCommand

from training.devices import describe_device, queues_for_device


class Command(BaseCommand):
    help = "Start a Celery worker that advertises this machine's device and serves the queues it fits."

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs="*", help="passed to `celery worker` (after --)")

    def handle(self, *args, **options):
        device = describe_device()
        extra = options["celery_args"]
        argv = [shutil.which("celery", path=os.path.dirname(sys.executable)) or "celery", "-A", "config", "worker"]
        if not {"-Q", "--queues"} & set(extra):
            argv += ["-Q", ",".join(queues_for_device(device))]
        if not any(a.startswith(("-c", "--concurrency")) for a in extra):
            argv += ["--concurrency", "1"]  # one run per GPU; a CPU run uses every core itself
        self.stderr.write(f"{device['name']}: serving {argv[argv.index('-Q') + 1] if '-Q' in argv else 'given queues'}")
        os.environ["NETBUILDER_DEVICE"] = json.dumps(device)
        os.execv(argv[0], argv + extra)
