"""Layer parameter kinds: each checks a JSON value, names what is wrong, and describes itself as JSON Schema.

The registry declares every parameter with one of these, so the checks, the published schema and the
browser's forms all come from the same declaration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


class ParamError(ValueError):
    """A parameter value that is not allowed; the message says why, without the parameter's name."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


@dataclass(frozen=True)
class Param:
    """One parameter of a layer. `kind` is int, float, bool, choice, size or shape."""

    name: str
    kind: str
    default: Any = None
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple = ()
    dims: int = 1  # for `size`: how many values a list gives (kernel_size of Conv2d: 2)
    min_length: int = 1  # for `shape`
    max_length: int = 3
    allow_minus_one: bool = False  # for `shape`: Reshape lets one dimension be inferred
    nullable: bool = False
    # Whether the value can change the layer's output shape or parameter count. Those that cannot (eps,
    # dropout rates, slopes) are left out of the shape-inference cache key, so editing one infers nothing.
    shaping: bool = True
    required: bool = False

    def check(self, value: Any) -> Any:
        """Return the value if it is allowed, else raise ParamError naming the problem."""
        if value is None:
            if self.nullable:
                return None
            raise ParamError("is required")
        checker = getattr(self, f"_check_{self.kind}")
        return checker(value)

    def _check_range(self, value: float) -> None:
        if self.minimum is not None:
            if self.exclusive_minimum and value <= self.minimum:
                raise ParamError(f"must be greater than {self.minimum:g}, got {value}")
            if not self.exclusive_minimum and value < self.minimum:
                raise ParamError(f"must be at least {self.minimum:g}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise ParamError(f"must be at most {self.maximum:g}, got {value}")

    def _check_int(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema counts 3.0 as an integer, and so does this check
        if not _is_int(value):
            raise ParamError(f"must be an integer, got {value!r}")
        self._check_range(value)
        return value

    def _check_float(self, value: Any) -> float:
        if not _is_number(value):
            raise ParamError(f"must be a finite number, got {value!r}")
        self._check_range(value)
        return float(value)

    def _check_bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamError(f"must be true or false, got {value!r}")
        return value

    def _check_choice(self, value: Any) -> Any:
        if value not in self.choices:
            options = ", ".join(repr(c) for c in self.choices)
            raise ParamError(f"must be one of {options}, got {value!r}")
        return value

    def _check_size(self, value: Any) -> int | tuple[int, ...]:
        """An int, or a list of `dims` ints (one per spatial dimension)."""
        if isinstance(value, list) and self.dims > 1:
            if len(value) != self.dims:
                raise ParamError(f"must be an integer or a list of {self.dims} integers, got {value!r}")
            return tuple(self._check_int(v) for v in value)
        if not (_is_int(value) or isinstance(value, float) and value.is_integer()):
            wanted = f"an integer or a list of {self.dims} integers" if self.dims > 1 else "an integer"
            raise ParamError(f"must be {wanted}, got {value!r}")
        return self._check_int(value)

    def _check_shape(self, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(_is_number(v) and float(v).is_integer() for v in value):
            raise ParamError(f"must be a list of integers, got {value!r}")
        value = [int(v) for v in value]
        if not self.min_length <= len(value) <= self.max_length:
            raise ParamError(
                f"must have {self.min_length} to {self.max_length} dimensions, got {len(value)}"
            )
        if self.allow_minus_one and value.count(-1) > 1:
            raise ParamError("may infer (-1) at most one dimension")
        for v in value:
            if v == -1 and self.allow_minus_one:
                continue
            self._check_range(v)
        return tuple(value)

    def json_schema(self) -> dict:
        """The JSON Schema of this parameter's values, published in the graph schema."""
        bounds: dict = {}
        if self.minimum is not None:
            bounds["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            bounds["maximum"] = self.maximum
        integer = {"type": "integer", **bounds}
        schema: dict
        if self.kind == "int":
            schema = integer
        elif self.kind == "float":
            schema = {"type": "number", **bounds}
        elif self.kind == "bool":
            schema = {"type": "boolean"}
        elif self.kind == "choice":
            schema = {"enum": list(self.choices)}
        elif self.kind == "size":
            schema = integer
            if self.dims > 1:
                schema = {"oneOf": [integer, {"type": "array", "items": integer,
                                              "minItems": self.dims, "maxItems": self.dims}]}
        else:  # shape
            item = integer
            if self.allow_minus_one:
                item = {"oneOf": [integer, {"const": -1}]}
            schema = {"type": "array", "items": item, "minItems": self.min_length, "maxItems": self.max_length}
        if self.nullable:
            schema = {"oneOf": [schema, {"type": "null"}]}
        return {**schema, "description": self.help, "default": self.default}

    def describe(self) -> dict:
        """What the browser needs to build a form field for this parameter."""
        info = {"name": self.name, "kind": self.kind, "default": self.default, "help": self.help,
                "required": self.required, "nullable": self.nullable}
        for key in ("minimum", "maximum"):
            if getattr(self, key) is not None:
                info[key] = getattr(self, key)
        if self.exclusive_minimum:
            info["exclusive_minimum"] = True
        if self.choices:
            info["choices"] = list(self.choices)
        if self.kind == "size":
            info["dims"] = self.dims
        if self.kind == "shape":
            info.update(min_length=self.min_length, max_length=self.max_length,
                        allow_minus_one=self.allow_minus_one)
        return info


def int_param(name: str, default: Any, help: str, minimum: int | None = 1, maximum: int | None = None,
              **kw: Any) -> Param:
    return Param(name, "int", default, help, minimum=minimum, maximum=maximum, **kw)


def float_param(name: str, default: float, help: str, minimum: float | None = None,
                maximum: float | None = None, **kw: Any) -> Param:
    return Param(name, "float", default, help, minimum=minimum, maximum=maximum, **kw)


def bool_param(name: str, default: bool, help: str) -> Param:
    return Param(name, "bool", default, help)


def choice_param(name: str, default: Any, help: str, choices: tuple) -> Param:
    return Param(name, "choice", default, help, choices=choices)


def size_param(name: str, default: Any, help: str, dims: int, minimum: int = 1,
               maximum: int = 4096, **kw: Any) -> Param:
    return Param(name, "size", default, help, minimum=minimum, maximum=maximum, dims=dims, **kw)


@dataclass
class CheckedParams:
    """A node's parameters after checking: defaults filled in, every value valid."""

    values: dict = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (parameter name, problem)
