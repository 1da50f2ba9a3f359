"""The training settings: one pydantic model gives the checks, the defaults and the browser's form."""

import math

import pytest

from training.config import ConfigError, TrainingConfig, check_config, describe


def test_defaults_fill_in_every_setting():
    config = check_config({})
    assert config == check_config(None) == TrainingConfig().model_dump()
    assert config["epochs"] == 10 and config["optimizer"] == "adam" and config["lr"] == 1e-3
    assert check_config({"lr": 1})["lr"] == 1.0 and isinstance(check_config({"lr": 1})["lr"], float)
    assert check_config({"epochs": 3.0})["epochs"] == 3  # JSON Schema's integers include 3.0


@pytest.mark.parametrize("raw, words", [
    ({"colour": "red"}, "'colour' is not a training setting"),
    ({"epochs": True}, "epochs must be an integer, got True"),
    ({"epochs": 2.5}, "epochs must be an integer, got 2.5"),
    ({"batch_size": "32"}, "batch_size must be an integer, got '32'"),
    ({"lr": math.nan}, "lr must be a finite number, got nan"),
    ({"grad_clip": math.inf}, "grad_clip must be a finite number, got inf"),
    ({"lr": True}, "lr must be a finite number, got True"),
    ({"lr": 0}, "lr must be greater than 0, got 0"),
    ({"momentum": 1.5}, "momentum must be at most 0.999, got 1.5"),
    ({"seed": 2**31}, "seed must be at most 2147483647, got 2147483648"),
    ({"mixed_precision": 1}, "mixed_precision must be true or false, got 1"),
    ({"device": "tpu"}, "device must be one of 'auto', 'cuda', 'mps', 'cpu', got 'tpu'"),
    ([1], "the training settings must be an object"),
])
def test_each_bad_value_is_refused_by_name(raw, words):
    with pytest.raises(ConfigError, match="^" + words.replace("(", r"\(")):
        check_config(raw)


def test_every_problem_is_named_at_once_unknown_names_first():
    with pytest.raises(ConfigError) as error:
        check_config({"epochs": 0, "lr": -1, "colour": "red"})
    assert str(error.value) == ("'colour' is not a training setting; epochs must be at least 1, got 0; "
                                "lr must be greater than 0, got -1")


def test_the_form_description_comes_from_the_model():
    fields = {f["name"]: f for f in describe()}
    assert list(fields) == list(TrainingConfig.model_fields)
    assert fields["lr"] == {"name": "lr", "kind": "float", "default": 1e-3,
                            "help": "Learning rate (the peak rate for one-cycle).", "required": False,
                            "nullable": False, "minimum": 0.0, "maximum": 10.0, "exclusive_minimum": True}
    assert fields["epochs"] == {"name": "epochs", "kind": "int", "default": 10,
                                "help": "Passes over the training data.", "required": False, "nullable": False,
                                "minimum": 1, "maximum": 1000}
    assert fields["optimizer"]["kind"] == "choice" and fields["optimizer"]["choices"] == ["sgd", "adam", "adamw"]
    assert fields["mixed_precision"]["kind"] == "bool" and "minimum" not in fields["mixed_precision"]
    assert check_config({f["name"]: f["default"] for f in describe()}) == check_config({})
