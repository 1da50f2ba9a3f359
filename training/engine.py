"""The training loop: one code path for the Celery worker, the `train` command and the benchmarks.

Fast by construction: the dataset is moved to the device once and batched by index; losses accumulate on
the device and are read (one sync) only when metrics are emitted, about ten times a second; everything that
talks to the outside world is a hook called at those moments, never inside the step.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from builder.graph import Analysis, GraphInvalid, compile_graph
from builder.graph.codegen import python_names

from .datasets import Dataset
from .insight import LayerStats, warnings
from .probing import decision_boundary, plane
from .protocol import EventKind, best_score

EVAL_BATCH = 1024
CONFUSION_MAX_CLASSES = 100  # past this, an epoch's confusion matrix is too large to send every epoch
STEP_EVENTS_PER_SECOND = 10


class NonFiniteLoss(ValueError):
    """The loss became NaN or infinite; the message names the first node whose output did."""


class Hooks:
    """What a run tells the world and asks of it. The defaults do nothing."""

    def emit(self, kind: str, data: dict) -> None:
        """A metrics event: "step" (batched step losses) or "epoch"."""

    def should_stop(self) -> bool:
        """Polled once per step: true when the user asked to stop."""
        return False

    def save_checkpoint(self, epoch: int, state: dict) -> None:
        """Called after every epoch (and on stop) with everything needed to resume exactly.

        The state holds the live tensors: serialize it before returning.
        """


@dataclass
class Result:
    history: list[dict] = field(default_factory=list)
    best: dict | None = None
    stopped_early: bool = False
    cancelled: bool = False

    @property
    def final(self) -> dict | None:
        return self.history[-1] if self.history else None


def pick_device(choice: str) -> torch.device:
    if choice in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    if choice in ("auto", "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    if choice not in ("auto", "cpu"):
        raise ValueError(f"device '{choice}' is not available on this machine")
    return torch.device("cpu")


def build_model(analysis: Analysis, seed: int) -> nn.Module:
    """Compile an analysed graph with seeded initial weights, so a seed gives the same model everywhere; the
    weights of nodes marked `"trainable": false` are frozen.

    An invalid graph raises GraphInvalid (a ValueError) with its errors' messages.
    """
    if not analysis.valid:
        raise GraphInvalid(analysis)
    torch.manual_seed(seed)
    model = compile_graph(analysis)
    names = python_names(list(analysis.graph.nodes))
    for node_id in analysis.frozen:  # fine-tuning: these weights get no gradient, so no optimizer moves them
        getattr(model, names[node_id]).requires_grad_(False)
    return model


def load_matching(model: nn.Module, state: dict[str, torch.Tensor]) -> tuple[int, list[str]]:
    """Fine-tuning: copy in the tensors of `state` whose name and shape the model shares; the rest of the
    model keeps its fresh values (a new head). Returns how many were copied, and the model's names left out."""
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict(matching, strict=False)
    return len(matching), [k for k in own if k not in matching]


def split(n: int, val_split: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = min(n - 1, max(1, round(n * val_split))) if val_split > 0 else 0
    return order[n_val:], order[:n_val]


def _loss_function(name: str, task: str) -> nn.Module:
    if name == "auto":
        name = "cross_entropy" if task == "classification" else "mse"
    return {"cross_entropy": nn.CrossEntropyLoss, "mse": nn.MSELoss, "l1": nn.L1Loss,
            "huber": nn.HuberLoss}[name]()


def _optimizer(model: nn.Module, c: dict) -> torch.optim.Optimizer:
    if c["optimizer"] == "sgd":
        return torch.optim.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"],
                               weight_decay=c["weight_decay"])
    cls = torch.optim.AdamW if c["optimizer"] == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=c["lr"], weight_decay=c["weight_decay"])


def _scheduler(optimizer: torch.optim.Optimizer, c: dict, steps_per_epoch: int):
    if c["schedule"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, c["step_size"], c["gamma"])
    if c["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, c["epochs"])
    if c["schedule"] == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, c["lr"], epochs=c["epochs"],
                                                   steps_per_epoch=steps_per_epoch)
    return None


class Trainer:
    """Trains one model on one in-memory dataset with one checked config (training.config.check_config)."""

    def __init__(self, model: nn.Module, data: Dataset, config: dict, hooks: Hooks | None = None,
                 insight: LayerStats | None = None):
        self.config, self.hooks, self.task = config, hooks or Hooks(), data.task
        # Layer statistics (training.insight), recorded when the config asks; also names the node where a
        # loss that is not finite comes from.
        self.insight = insight
        self.stats = insight if insight is not None and config.get("layer_stats") else None
        self.device = pick_device(config["device"])
        self.model = model.to(self.device)
        train_idx, val_idx = split(len(data.X), config["val_split"], config["seed"])
        x, y = torch.from_numpy(data.X), torch.from_numpy(data.y)
        self.x_train, self.y_train = x[train_idx].to(self.device), y[train_idx].to(self.device)
        self.x_val, self.y_val = x[val_idx].to(self.device), y[val_idx].to(self.device)
        self.steps_per_epoch = math.ceil(len(self.x_train) / config["batch_size"])
        self.loss_fn = _loss_function(config["loss"], self.task)
        self.optimizer = _optimizer(self.model, config)
        self.scheduler = _scheduler(self.optimizer, config, self.steps_per_epoch)
        self.per_step_schedule = config["schedule"] == "onecycle"
        self.autocast = self.device.type == "cuda" and config["mixed_precision"]
        self.shuffle = torch.Generator().manual_seed(config["seed"] + 1)
        self.epoch, self.global_step, self.result = 0, 0, Result()
        self.best_val, self.bad_epochs = math.inf, 0
        # A classifier of points in the plane: its decision over a grid of the plane goes with every epoch event
        # (1,600 predictions of a small network, far cheaper than a request that loads a checkpoint each epoch).
        two_features = x.dim() == 2 and x.shape[1] == 2 and x.is_floating_point()
        self.grid = plane(x) if self.task == "classification" and two_features and len(x) else None

    # --- checkpoints ----------------------------------------------------------------------------------

    def state(self) -> dict:
        return {"epoch": self.epoch, "global_step": self.global_step, "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "shuffle_rng": self.shuffle.get_state(), "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None,
                "history": list(self.result.history), "best": self.result.best, "best_val": self.best_val,
                "bad_epochs": self.bad_epochs}

    def resume(self, state: dict) -> None:
        """Continue exactly where `state` (a checkpoint from `state()`) left off."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler and state["scheduler"]:
            self.scheduler.load_state_dict(state["scheduler"])
        self.shuffle.set_state(state["shuffle_rng"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        self.result.history, self.result.best = list(state["history"]), state["best"]
        self.best_val, self.bad_epochs = state["best_val"], state["bad_epochs"]

    # --- the loop -------------------------------------------------------------------------------------

    def run(self) -> Result:
        c, model = self.config, self.model
        started = time.monotonic()
        first_epoch = self.epoch
        while self.epoch < c["epochs"]:
            train = self._train_epoch()
            if train is None:
                self.result.cancelled = True
                self.hooks.save_checkpoint(self.epoch, self.state())
                break
            metrics = {"epoch": self.epoch + 1, **train, **self._evaluate(),
                       "lr": self.optimizer.param_groups[0]["lr"]}
            if self.scheduler and not self.per_step_schedule:
                self.scheduler.step()
            self.epoch += 1
            done = self.epoch - first_epoch
            metrics["eta_s"] = round((time.monotonic() - started) / done * (c["epochs"] - self.epoch), 1)
            self.result.history.append(metrics)
            best = self._track_best(metrics)
            extra = {"boundary": decision_boundary(model, *self.grid, self.device)} if self.grid else {}
            self.hooks.emit(EventKind.EPOCH, {**metrics, "best": best, **extra})
            self.hooks.save_checkpoint(self.epoch, self.state())
            if c["early_stopping"] and self.bad_epochs >= c["early_stopping"]:
                self.result.stopped_early = True
                break
        return self.result

    def _train_epoch(self) -> dict | None:
        """One pass over the training data; None if the user stopped it."""
        c, model = self.config, self.model
        model.train()
        order = torch.randperm(len(self.x_train), generator=self.shuffle).to(self.device)
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        pending: list[torch.Tensor] = []  # step losses not yet emitted: read in one sync
        started = last_emit = time.monotonic()
        interval = 1 / STEP_EVENTS_PER_SECOND
        seen = 0
        for step in range(self.steps_per_epoch):
            index = order[step * c["batch_size"]:(step + 1) * c["batch_size"]]
            xb, yb = self.x_train.index_select(0, index), self.y_train.index_select(0, index)
            with self._precision():
                out = model(xb)
                loss = self.loss_fn(out.float(), yb)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c["grad_clip"]:
                nn.utils.clip_grad_norm_(model.parameters(), c["grad_clip"])
            recording = self.stats is not None and self.stats.due(self.global_step)
            if recording:
                self.stats.keep_weights()
            self.optimizer.step()
            if self.per_step_schedule:
                self.scheduler.step()
            self.global_step += 1
            if recording:
                nodes = self.stats.record(xb, (time.monotonic() - started) / (step + 1))
                self.hooks.emit(EventKind.LAYER_STATS, {"epoch": self.epoch + 1, "step": self.global_step,
                                                        "nodes": nodes, "warnings": warnings(nodes)})
            seen += len(index)
            loss = loss.detach()
            loss_sum += loss * len(index)
            if self.task == "classification":
                correct += (out.argmax(1) == yb).sum()
            pending.append(loss)
            now = time.monotonic()
            if now - last_emit >= interval or step == self.steps_per_epoch - 1:
                first = self.global_step - len(pending) + 1
                losses = torch.stack(pending).tolist()
                if not all(map(math.isfinite, losses)):
                    self._non_finite(xb, step)
                self.hooks.emit(EventKind.STEP, {"epoch": self.epoch + 1, "step": step + 1,
                                         "steps_per_epoch": self.steps_per_epoch,
                                         "losses": [[first + i, v] for i, v in enumerate(losses)],
                                         "samples_per_s": round(seen / max(now - started, 1e-9), 1)})
                pending, last_emit = [], now
            if self.hooks.should_stop():
                return None
        elapsed = time.monotonic() - started
        metrics = {"train_loss": (loss_sum / seen).item(), "samples_per_s": round(seen / elapsed, 1),
                   "epoch_time_s": round(elapsed, 3)}
        if self.task == "classification":
            metrics["train_accuracy"] = correct.item() / seen
        return metrics

    def _non_finite(self, xb: torch.Tensor, step: int) -> None:
        where = f"at epoch {self.epoch + 1}, step {step + 1}"
        node = self.insight.first_non_finite(xb) if self.insight is not None else None
        if node is None:
            raise NonFiniteLoss(f"the loss became NaN or infinite {where}; try a lower learning rate")
        raise NonFiniteLoss(f"the loss became NaN or infinite {where}: node '{node}' is the first whose output "
                            "is not finite; try a lower learning rate, or normalise its input")

    @torch.no_grad()
    def _evaluate(self) -> dict:
        if not len(self.x_val):
            return {}
        self.model.eval()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        abs_err = torch.zeros((), device=self.device)
        confusion = None  # true class by predicted class, counted on the device
        for start in range(0, len(self.x_val), EVAL_BATCH):
            xb, yb = self.x_val[start:start + EVAL_BATCH], self.y_val[start:start + EVAL_BATCH]
            with self._precision():
                out = self.model(xb).float()
            loss_sum += self.loss_fn(out, yb) * len(xb)
            if self.task == "classification":
                predicted = out.argmax(1)
                correct += (predicted == yb).sum()
                classes = out.shape[1]
                if classes <= CONFUSION_MAX_CLASSES:
                    counts = torch.bincount(yb * classes + predicted, minlength=classes * classes)
                    confusion = counts if confusion is None else confusion + counts
            else:
                abs_err += (out - yb).abs().mean() * len(xb)
        n = len(self.x_val)
        metrics = {"val_loss": (loss_sum / n).item()}
        if self.task == "classification":
            metrics["val_accuracy"] = correct.item() / n
            if confusion is not None:
                metrics["confusion"] = confusion.view(classes, classes).tolist()
        else:
            metrics["val_mae"] = (abs_err / n).item()
        return metrics

    def _precision(self):
        # A disabled autocast still costs microseconds per step; on the CPU skip it entirely.
        if self.autocast:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _track_best(self, metrics: dict) -> bool:
        score = best_score(metrics)
        if score < self.best_val:
            self.best_val, self.bad_epochs, self.result.best = score, 0, dict(metrics)
            return True
        self.bad_epochs += 1
        return False
