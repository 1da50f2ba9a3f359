"""python manage.py train GRAPH.json --dataset NAME [--epochs N --batch-size B --lr X --device D --out DIR] [--stats]

Trains in this process with the same engine as the workers, prints one JSON line per epoch (with --stats, also
a {"event": "layer_stats", ...} line each time the layer statistics are recorded), and writes the download
bundle to DIR. Nothing is stored in the database.
"""

import json
from pathlib import Path

import torch
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from builder.graph import analyze, parse_json
from training.bundle import write_bundle
from training.data import NoSuchDataset, load_run_dataset
from training.datasets import DatasetError
from training.engine import Hooks, NonFiniteLoss, Trainer, build_model
from training.insight import LayerStats
from training.lifecycle import Refused, checked_config, trainable
from training.protocol import EventKind


class PrintEpochs(Hooks):
    def __init__(self, write):
        self.write = write

    def emit(self, kind: str, data: dict) -> None:
        if kind == EventKind.EPOCH:  # the metrics; not a point classifier's decision boundary (1,600 cells)
            self.write(json.dumps({k: v for k, v in data.items() if k != "boundary"}))
        elif kind == EventKind.LAYER_STATS:
            self.write(json.dumps({"event": "layer_stats", "epoch": data["epoch"], "step": data["step"],
                                   "nodes": data["nodes"]}))


class Command(BaseCommand):
    help = "Train a graph on a built-in dataset; print one JSON line per epoch and write the bundle."

    def add_arguments(self, parser):
        parser.add_argument("graph", type=Path)
        parser.add_argument("--dataset", required=True, help="a built-in dataset: digits, iris, spirals, ...")
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--batch-size", type=int, dest="batch_size")
        parser.add_argument("--lr", type=float)
        parser.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"])
        parser.add_argument("--seed", type=int)
        parser.add_argument("--out", type=Path, default=Path("bundle"), help="folder for the bundle (./bundle)")
        parser.add_argument("--stats", action="store_true", help="also print each layer's statistics as JSON lines")

    def handle(self, *args, **options):
        try:
            doc, errors = parse_json(options["graph"].read_text())
        except OSError as exc:
            raise CommandError(f"cannot read {options['graph']}: {exc.strerror}") from None
        if errors:
            raise CommandError(errors[0].message)
        overrides = {k: options[k] for k in ("epochs", "batch_size", "lr", "device", "seed") if options[k] is not None}
        try:
            # The same checks, limits and messages as a run created through the API.
            config = checked_config({**overrides, "layer_stats": options["stats"]})
            if options["dataset"].startswith("upload-"):
                raise NoSuchDataset(options["dataset"])  # uploads belong to a user: train them in the app
            data = load_run_dataset(options["dataset"], owner_id=0, seed=config["seed"])
            analysis = analyze(doc, settings.GRAPH_LIMITS)
            trainable(analysis, data.info(), config)
            model = build_model(analysis, config["seed"])
            trainer = Trainer(model, data, config, PrintEpochs(self.stdout.write), LayerStats(model, analysis))
        except (Refused, NoSuchDataset, DatasetError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        try:
            result = trainer.run()
        except NonFiniteLoss as exc:
            raise CommandError(str(exc)) from None
        metrics = {"final": result.final, "best": result.best, "stopped_early": result.stopped_early}
        report = write_bundle(options["out"], trainer.model.cpu().float(), analysis, analysis.doc, config, metrics,
                              torch.from_numpy(data.X[:4]), data.info())
        self.stderr.write(f"bundle written to {options['out']}/ ({', '.join(sorted(report['files']))})")
