"""The training engine, in process: accuracy, exact resume, cancel, throttled step events, every setting."""

import io
import math

import pytest
import torch

from builder.graph import Limits, analyze
from training.config import ConfigError, check_config
from training.datasets import load_dataset
from training.engine import Hooks, Trainer, build_model

from tests.graphs import example, graph, node

TIMING = {"samples_per_s", "epoch_time_s", "eta_s"}


class Recorder(Hooks):
    def __init__(self, stop_after_steps=None):
        self.events, self.checkpoints, self.steps = [], {}, 0
        self.stop_after_steps = stop_after_steps

    def emit(self, kind, data):
        self.events.append((kind, data))

    def should_stop(self):
        self.steps += 1
        return self.stop_after_steps is not None and self.steps >= self.stop_after_steps

    def save_checkpoint(self, epoch, state):
        buffer = io.BytesIO()  # serialized at once, as the worker does: the state holds live tensors
        torch.save(state, buffer)
        buffer.seek(0)
        self.checkpoints[epoch] = torch.load(buffer, weights_only=True)


def digits_trainer(hooks=None, **settings):
    config = check_config({"epochs": 4, "lr": 3e-3, **settings})
    model = build_model(analyze(example("digits_cnn"), Limits()), config["seed"])
    return Trainer(model, load_dataset("digits"), config, hooks or Recorder())


def without_timing(history):
    return [{k: v for k, v in h.items() if k not in TIMING} for h in history]


def test_a_small_cnn_learns_digits_to_95_percent():
    result = digits_trainer(epochs=10).run()
    assert result.final["val_accuracy"] >= 0.95
    assert result.best["val_loss"] == min(h["val_loss"] for h in result.history)


def test_a_resumed_run_matches_an_uninterrupted_one_exactly():
    straight = digits_trainer(Recorder(), epochs=4, optimizer="sgd", schedule="step", step_size=1)
    uninterrupted = straight.run()

    first = Recorder()
    digits_trainer(first, epochs=4, optimizer="sgd", schedule="step", step_size=1).run()
    resumed = digits_trainer(epochs=4, optimizer="sgd", schedule="step", step_size=1)
    resumed.resume(first.checkpoints[2])
    result = resumed.run()

    assert without_timing(result.history) == without_timing(uninterrupted.history)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_a_stop_request_ends_the_epoch_early_and_saves_a_checkpoint():
    hooks = Recorder(stop_after_steps=5)
    trainer = digits_trainer(hooks)
    result = trainer.run()
    assert result.cancelled and result.history == []
    assert trainer.global_step == 5 and hooks.checkpoints[0]["global_step"] == 5


def test_step_losses_are_batched_and_cover_every_step_once():
    hooks = Recorder()
    trainer = digits_trainer(hooks, epochs=2, batch_size=8)
    trainer.run()
    steps = [s for kind, data in hooks.events if kind == "step" for s, _ in data["losses"]]
    assert steps == list(range(1, trainer.global_step + 1))
    step_events = [data for kind, data in hooks.events if kind == "step"]
    assert len(step_events) < trainer.global_step / 5  # batched, not one event per step
    assert all(math.isfinite(loss) for data in step_events for _, loss in data["losses"])
    epochs = [data for kind, data in hooks.events if kind == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    expected = {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "samples_per_s", "eta_s", "lr"}
    assert expected <= set(epochs[0])


def test_early_stopping_stops_when_validation_loss_stalls():
    result = digits_trainer(epochs=50, lr=0.5, optimizer="sgd", early_stopping=2).run()
    assert result.stopped_early and len(result.history) < 50


@pytest.mark.parametrize("settings", [
    {"optimizer": "adamw", "weight_decay": 0.01, "schedule": "cosine"},
    {"optimizer": "sgd", "momentum": 0.5, "schedule": "onecycle", "grad_clip": 1.0},
    {"loss": "cross_entropy", "val_split": 0.0},
])
def test_each_optimizer_schedule_and_option_trains(settings):
    result = digits_trainer(epochs=2, **settings).run()
    assert len(result.history) == 2 and math.isfinite(result.final["train_loss"])
    assert ("val_loss" in result.final) == (settings.get("val_split", 0.2) > 0)


def test_regression_uses_mse_and_reports_mean_absolute_error():
    doc = graph([node("in", "Input", shape=[32, 1]), node("rnn", "GRU", hidden_size=16),
                 node("out", "Linear", out_features=1)], [("in", "rnn"), ("rnn", "out", 1)])
    config = check_config({"epochs": 3, "lr": 1e-2})
    model = build_model(analyze(doc, Limits()), 0)
    result = Trainer(model, load_dataset("sine", samples=400), config).run()
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert "val_mae" in result.final and "val_accuracy" not in result.final


def test_bad_settings_are_refused_with_their_names():
    with pytest.raises(ConfigError) as error:
        check_config({"epochs": 0, "optimizer": "lbfgs", "colour": "red"})
    message = str(error.value)
    assert "epochs must be at least 1" in message and "optimizer must be one of" in message
    assert "'colour' is not a training setting" in message
