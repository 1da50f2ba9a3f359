"""Training hyper-parameters: declared once, with defaults, ranges and help, checked and described from here.

The declarations reuse the layer registry's parameter kinds, so the browser builds the hyper-parameter form
exactly as it builds a layer's form.
"""

from __future__ import annotations

from builder.graph.params import Param, ParamError, bool_param, choice_param, float_param, int_param


class ConfigError(ValueError):
    """A hyper-parameter value that is not allowed; the message names it."""


PARAMS: tuple[Param, ...] = (
    int_param("epochs", 10, "Passes over the training data.", 1, 1000),
    int_param("batch_size", 32, "Samples per optimizer step.", 1, 65536),
    choice_param("optimizer", "adam", "How the weights are updated.", ("sgd", "adam", "adamw")),
    float_param("lr", 1e-3, "Learning rate (the peak rate for one-cycle).", 0.0, 10.0, exclusive_minimum=True),
    float_param("momentum", 0.9, "Momentum, for SGD.", 0.0, 0.999),
    float_param("weight_decay", 0.0, "L2 penalty (decoupled for AdamW).", 0.0, 1.0),
    choice_param("schedule", "none", "How the learning rate changes during training.",
                 ("none", "step", "cosine", "onecycle")),
    int_param("step_size", 10, "Step schedule: epochs between learning-rate drops.", 1, 1000),
    float_param("gamma", 0.1, "Step schedule: factor of each drop.", 0.0, 1.0, exclusive_minimum=True),
    float_param("val_split", 0.2, "Fraction of the data held out for validation.", 0.0, 0.9),
    int_param("seed", 0, "Seed of the weight initialisation, the split and the shuffling.", 0, 2**31 - 1),
    int_param("early_stopping", 0, "Stop after this many epochs without a better validation loss (0: never).",
              0, 1000),
    float_param("grad_clip", 0.0, "Clip the gradient norm to this value (0: no clipping).", 0.0, 1e6),
    choice_param("device", "auto", "Where to train: auto picks CUDA, then MPS, then the CPU.",
                 ("auto", "cuda", "mps", "cpu")),
    bool_param("mixed_precision", True, "bf16 autocast on a GPU (ignored on the CPU)."),
    choice_param("loss", "auto", "auto: cross-entropy for classification, MSE for regression.",
                 ("auto", "cross_entropy", "mse", "l1", "huber")),
)

NAMES = {p.name for p in PARAMS}


def check_config(raw: dict | None) -> dict:
    """Every hyper-parameter with defaults filled in, or ConfigError naming each bad one."""
    raw = dict(raw or {})
    problems = [f"'{key}' is not a training setting" for key in raw if key not in NAMES]
    config = {}
    for param in PARAMS:
        try:
            config[param.name] = param.check(raw.get(param.name, param.default))
        except ParamError as exc:
            problems.append(f"{param.name} {exc}")
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def describe() -> list[dict]:
    return [p.describe() for p in PARAMS]
