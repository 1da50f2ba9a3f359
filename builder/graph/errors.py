"""The one error type of the graph core: a message that names the problem, keyed by node (or edge)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GraphError:
    message: str
    node: str | None = None
    edge: int | None = None
    param: str | None = None
    code: str = "invalid"

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return self.message
