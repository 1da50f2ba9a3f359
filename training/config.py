"""Training hyper-parameters: declared once, as a pydantic model with defaults, ranges and help.

`check_config` validates against the model and words each problem the way the layer parameters' checks do;
`describe` turns the model's JSON Schema into the field list the browser builds its form from.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


class ConfigError(ValueError):
    """A hyper-parameter value that is not allowed; the message names it."""


def _whole_float_to_int(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer, and so do the layer parameters; strict mode alone would refuse it.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Integer = Annotated[int, BeforeValidator(_whole_float_to_int)]


class TrainingConfig(BaseModel):
    # Strict: no bools for numbers, no strings for anything else; NaN and infinity are refused.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    epochs: Integer = Field(10, ge=1, le=1000, description="Passes over the training data.")
    batch_size: Integer = Field(32, ge=1, le=65536, description="Samples per optimizer step.")
    optimizer: Literal["sgd", "adam", "adamw"] = Field("adam", description="How the weights are updated.")
    lr: float = Field(1e-3, gt=0.0, le=10.0, description="Learning rate (the peak rate for one-cycle).")
    momentum: float = Field(0.9, ge=0.0, le=0.999, description="Momentum, for SGD.")
    weight_decay: float = Field(0.0, ge=0.0, le=1.0, description="L2 penalty (decoupled for AdamW).")
    schedule: Literal["none", "step", "cosine", "onecycle"] = Field(
        "none", description="How the learning rate changes during training.")
    step_size: Integer = Field(10, ge=1, le=1000, description="Step schedule: epochs between learning-rate drops.")
    gamma: float = Field(0.1, gt=0.0, le=1.0, description="Step schedule: factor of each drop.")
    val_split: float = Field(0.2, ge=0.0, le=0.9, description="Fraction of the data held out for validation.")
    seed: Integer = Field(0, ge=0, le=2**31 - 1,
                          description="Seed of the weight initialisation, the split and the shuffling.")
    early_stopping: Integer = Field(
        0, ge=0, le=1000, description="Stop after this many epochs without a better validation loss (0: never).")
    grad_clip: float = Field(0.0, ge=0.0, le=1e6, description="Clip the gradient norm to this value (0: no clipping).")
    device: Literal["auto", "cuda", "mps", "cpu"] = Field(
        "auto", description="Where to train: auto picks CUDA, then MPS, then the CPU.")
    mixed_precision: bool = Field(True, description="bf16 autocast on a GPU (ignored on the CPU).")
    layer_stats: bool = Field(True, description="Record each layer's output, gradient and update statistics "
                                                "every few steps (at most 3% of the training time).")
    loss: Literal["auto", "cross_entropy", "mse", "l1", "huber"] = Field(
        "auto", description="auto: cross-entropy for classification, MSE for regression.")


# Pydantic's error types, worded as the layer parameters' errors are (builder.graph.params).
MESSAGES = {
    "model_type": "the training settings must be an object, got {input!r}",
    "extra_forbidden": "'{name}' is not a training setting",
    "greater_than_equal": "{name} must be at least {ge}, got {input}",
    "greater_than": "{name} must be greater than {gt}, got {input}",
    "less_than_equal": "{name} must be at most {le}, got {input}",
    "int_type": "{name} must be an integer, got {input!r}",
    "float_type": "{name} must be a finite number, got {input!r}",
    "finite_number": "{name} must be a finite number, got {input!r}",
    "bool_type": "{name} must be true or false, got {input!r}",
    "literal_error": "{name} must be one of {choices}, got {input!r}",
}


def _message(error: dict) -> str:
    name = ".".join(map(str, error["loc"]))
    template = MESSAGES.get(error["type"])
    if template is None:
        return f"{name or 'the training settings'}: {error['msg']}"
    field = TrainingConfig.model_fields.get(name)
    choices = ", ".join(map(repr, get_args(field.annotation))) if field else ""
    bounds = {key: f"{v:g}" if isinstance(v, float) else v for key, v in error.get("ctx", {}).items()}
    return template.format(name=name, input=error["input"], choices=choices, **bounds)


def check_config(raw: dict | None) -> dict:
    """Every hyper-parameter with defaults filled in, or ConfigError naming each bad one."""
    try:
        return TrainingConfig.model_validate(raw or {}).model_dump()
    except ValidationError as exc:
        # Unknown names first: a misspelt setting explains the default that follows it.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise ConfigError("; ".join(_message(e) for e in errors)) from None


KINDS = {"integer": "int", "number": "float", "boolean": "bool"}


def describe() -> list[dict]:
    """Each setting's form field (the layer parameters' `Param.describe` shape), from the model's JSON Schema."""
    fields = []
    for name, prop in TrainingConfig.model_json_schema()["properties"].items():
        info = {"name": name, "kind": "choice" if "enum" in prop else KINDS[prop["type"]],
                "default": prop["default"], "help": prop["description"], "required": False, "nullable": False}
        if "exclusiveMinimum" in prop or "minimum" in prop:
            info["minimum"] = prop.get("exclusiveMinimum", prop.get("minimum"))
        if "maximum" in prop:
            info["maximum"] = prop["maximum"]
        if "exclusiveMinimum" in prop:
            info["exclusive_minimum"] = True
        if "enum" in prop:
            info["choices"] = prop["enum"]
        fields.append(info)
    return fields
