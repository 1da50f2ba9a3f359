"""Where each element of a rearranged tensor comes from: how the ONNX importer follows data across the batch.

Exporters move the batch axis (a time-major LSTM; attention with its heads folded into the batch), which no graph
node does; but such a chain of moves ends where it began, or in a layer that reads that arrangement. So each
tensor the graph computes gets a block of numbers, one per element for a small batch (a `Space`); ONNX's
data-movement ops (Reshape, Transpose, Gather, Slice, ...) are applied to those numbers with numpy, and the
numbers that come out say which element of which tensor lands where. Shape arithmetic (Shape, Slice, Concat, Mul
of shapes) runs through the same functions, with the batch size a symbol. Nothing of the file is run.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import permutations
from typing import Any

import numpy as np

from .import_torch import Tensor

# Elements one followed tensor may have (its numbers are int64: 128 MiB). A file that asks for more, by a huge
# input, batch or broadcast, is refused before anything that large is made.
MAX_ELEMENTS = 1 << 24


def _within_budget(shape: tuple[int, ...], what: str) -> None:
    count = int(np.prod(shape, dtype=object))
    if count > MAX_ELEMENTS:
        raise ValueError(f"{what} would have {count:,} elements; the importer follows at most {MAX_ELEMENTS:,}")


class Batch:
    """A multiple of the batch size in a shape computation (x.shape[0], or x.shape[0] · heads): the batch size is
    any number, so it is only carried along, into a reshape or an expand, and multiplied or divided by numbers."""

    def __init__(self, times: int = 1):
        self.times = times

    def __repr__(self) -> str:
        return "batch" if self.times == 1 else f"{self.times}·batch"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Batch) and other.times == self.times

    def __hash__(self) -> int:
        return hash(("batch", self.times))

    def __mul__(self, other: Any) -> Batch:
        if isinstance(other, Batch) or int(other) != other:
            raise BatchArithmetic
        return Batch(self.times * int(other))

    __rmul__ = __mul__

    def __floordiv__(self, other: Any) -> Batch:
        if isinstance(other, Batch) or int(other) != other or self.times % int(other):
            raise BatchArithmetic
        return Batch(self.times // int(other))


class BatchArithmetic(ArithmeticError):
    """A shape computation does with the batch size what only some batch sizes allow (adds a number to it,
    divides it unevenly)."""


@dataclass(eq=False)
class Space:
    """A block of numbers standing for the elements of one tensor: a graph tensor (batch first, `shape` without
    the batch) or attention's heads (`heads`, `shape` the whole array's)."""

    base: int
    shape: tuple[int, ...]
    full: tuple[int, ...]
    tensor: Tensor | None = None
    heads: Heads | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.full))

    def canonical(self) -> np.ndarray:
        return self.base + np.arange(self.size).reshape(self.full)


@dataclass(eq=False)
class Heads:
    """softmax(q·kᵀ)·v over heads folded into leading axes: the sample and head of each leading position, and
    where q, k and v were cut from (a projection's output and its first feature)."""

    sample: np.ndarray
    head: np.ndarray
    positions: int
    width: int
    cuts: list[tuple[Space, int]]


@dataclass(frozen=True, eq=False)
class Moved:
    """Elements of graph tensors, rearranged (`idx`: their numbers), times `scale`; `by` is the ONNX node that
    moved them last."""

    idx: np.ndarray
    by: str
    scale: float = 1.0


class Tracer:
    """The spaces handed out so far, for a batch of `batch` samples."""

    def __init__(self, batch: int):
        self.batch = batch
        self.spaces: list[Space] = []
        self.bases: list[int] = []
        self.of_tensor: dict[Tensor, Space] = {}
        self.next = 0

    def register(self, shape: tuple[int, ...], tensor: Tensor | None = None, heads: Heads | None = None) -> Space:
        full = tuple(shape) if heads else (self.batch, *shape)
        _within_budget(full, f"a tensor of shape {list(full)}")
        space = Space(self.next, tuple(shape), full, tensor, heads)
        self.next += space.size
        self.spaces.append(space)
        self.bases.append(space.base)
        if tensor is not None:
            self.of_tensor[tensor] = space
        return space

    def space(self, tensor: Tensor, shape: tuple[int, ...]) -> Space:
        return self.of_tensor.get(tensor) or self.register(shape, tensor)

    def space_of(self, idx: np.ndarray) -> Space | None:
        """The one space all of `idx` lies in, if there is one."""
        if not idx.size:
            return None
        space = self.spaces[bisect.bisect_right(self.bases, int(idx.min())) - 1]
        return space if int(idx.max()) < space.base + space.size else None

    def tensor_at(self, idx: np.ndarray) -> Tensor | None:
        """The graph tensor `idx` is, exactly as the graph holds it (batch first, nothing moved)."""
        space = self.space_of(idx)
        if space is None or space.tensor is None or idx.shape != space.full:
            return None
        return space.tensor if np.array_equal(idx, space.canonical()) else None

    def per_sample(self, idx: np.ndarray) -> tuple[Space, str, Any] | None:
        """How the graph computes `idx` from one tensor without moving the batch: ("reshape", shape) when the
        order of the elements is kept, ("permute", dims) when only the axes are reordered."""
        space = self.space_of(idx)
        if space is None or space.tensor is None or idx.shape[:1] != (self.batch,):
            return None
        full = space.canonical()
        if np.array_equal(idx.reshape(-1), full.reshape(-1)):
            return space, "reshape", list(idx.shape[1:])
        for order in permutations(range(1, full.ndim)):
            moved = full.transpose(0, *order)
            if moved.shape == idx.shape and np.array_equal(moved, idx):
                return space, "permute", [d - 1 for d in order]
        return None

    def shuffled(self, idx: np.ndarray) -> tuple[Space, int] | None:
        """When `idx` is a graph image (C×H×W) with its channels interleaved from groups, as ChannelShuffle does
        (ShuffleNet's reshape to groups, transpose and reshape back): that image's space and the groups."""
        space = self.space_of(idx)
        if space is None or space.tensor is None or len(space.shape) != 3 or idx.shape != space.full:
            return None
        channels, height, width = space.shape
        second = (int(idx[0, 1, 0, 0]) - space.base) // (height * width)  # the first channel of the second group
        if not 1 < second < channels or channels % second:  # 1 or all channels per group: nothing moves
            return None
        full = space.canonical()
        groups = channels // second
        shuffled = full.reshape(self.batch, groups, second, height, width).swapaxes(1, 2).reshape(full.shape)
        return (space, groups) if np.array_equal(idx, shuffled) else None

    def rows(self, idx: np.ndarray) -> tuple[Space, np.ndarray] | None:
        """When `idx` keeps whole rows (the last axis) of one graph tensor: that tensor's space and each row's
        number, so that a Linear or a bias on the last axis can act on the tensor itself."""
        space = self.space_of(idx)
        if space is None or space.tensor is None or idx.shape[-1:] != space.full[-1:]:
            return None
        width = space.full[-1]
        rel = idx - space.base
        if not np.array_equal(rel, rel[..., :1] + np.arange(width)) or (rel[..., 0] % width).any():
            return None
        return space, rel[..., 0] // width

    def lift(self, rows: np.ndarray, tensor: Tensor, shape: tuple[int, ...]) -> np.ndarray:
        """The same rows of `tensor` (of one sample's `shape`), wherever `rows` put them."""
        width = shape[-1]
        return self.space(tensor, shape).base + rows[..., None] * width + np.arange(width)

    def cut(self, idx: np.ndarray) -> tuple[Space, np.ndarray, np.ndarray] | None:
        """For idx of shape [G, T, W] cut from one graph tensor of one sample's shape T×F: that tensor's space,
        and for each g its sample and first feature, when row t of g is position t's features first..first+W."""
        space = self.space_of(idx)
        if space is None or space.tensor is None or len(space.shape) != 2 or idx.shape[1] != space.shape[0]:
            return None
        positions, width = space.shape
        sample, within = np.divmod(idx - space.base, positions * width)
        position, feature = np.divmod(within, width)
        first = feature[:, :1, :1]
        if (sample != sample[:, :1, :1]).any() or (position != np.arange(positions)[:, None]).any() \
                or (feature != first + np.arange(idx.shape[2])).any():
            return None
        return space, sample[:, 0, 0], first[:, 0, 0]


# --- ONNX's data-movement ops and shape arithmetic, with numpy -------------------------------------------------

MOVES = ("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Gather", "Slice", "Concat", "Split", "Flatten", "Expand",
         "Identity")
ARITHMETIC = ("Mul", "Add", "Sub", "Div", "Mod", "Neg", "Sqrt", "Equal", "Where")


def concrete(shape: np.ndarray, batch: int) -> np.ndarray:
    """A shape with its multiples of the batch size worked out for `batch`."""
    return np.array([d.times * batch if isinstance(d, Batch) else int(d) for d in np.asarray(shape).reshape(-1)],
                    dtype=np.int64)


def move(op: str, args: list[np.ndarray | None], attrs: dict, batch: int) -> list[np.ndarray]:
    """`op` applied to arrays (numbers standing for elements, or a shape), as ONNX defines it."""
    x = args[0]
    if op == "Range":  # as_strided's positions over the batch (flatten after a pool): counted for `batch` samples
        return [np.arange(*(int(concrete(a, batch)[0]) for a in args))]
    if op == "Concat":  # every argument is data
        return [np.concatenate(args, axis=attrs["axis"])]
    more = [a if a is None or a.dtype != object else concrete(a, batch) for a in args[1:]]  # shapes, indices
    if op == "Identity":
        return [x]
    if op == "Reshape":
        copy = not attrs.get("allowzero", 0)  # a 0 in the shape keeps that axis's size
        return [x.reshape([x.shape[i] if copy and d == 0 else int(d) for i, d in enumerate(more[0])])]
    if op == "Transpose":
        return [x.transpose(attrs.get("perm") or None)]
    if op == "Squeeze":
        axes = more[0] if more and more[0] is not None else [i for i, d in enumerate(x.shape) if d == 1]
        return [np.squeeze(x, tuple(int(a) % x.ndim for a in np.atleast_1d(axes)))]
    if op == "Unsqueeze":
        rank = x.ndim + more[0].size
        return [np.expand_dims(x, tuple(sorted(int(a) % rank for a in more[0].reshape(-1))))]
    if op == "Gather":
        return [np.asarray(np.take(x, more[0], axis=attrs.get("axis", 0)), dtype=x.dtype)]  # a 0-d array, not an item
    if op == "Slice":
        axes = more[2] if len(more) > 2 and more[2] is not None else range(len(more[0]))
        steps = more[3] if len(more) > 3 and more[3] is not None else [1] * len(more[0])
        index = [slice(None)] * x.ndim
        for axis, start, end, step in zip(axes, more[0], more[1], steps):
            index[int(axis) % x.ndim] = slice(int(start), int(end), int(step))
        return [x[tuple(index)]]
    if op == "Split":
        axis = attrs.get("axis", 0)
        sizes = more[0] if more and more[0] is not None else _equal_parts(x.shape[axis], attrs["num_outputs"])
        return np.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis)
    if op == "Flatten":
        axis = attrs.get("axis", 1) % (x.ndim or 1)
        return [x.reshape(int(np.prod(x.shape[:axis])), -1)]
    if op == "Expand":
        shape = np.broadcast_shapes(x.shape, tuple(int(d) for d in more[0]))
        _within_budget(shape, f"the expanded shape {list(shape)}")
        return [np.broadcast_to(x, shape).copy()]
    raise KeyError(op)


def _equal_parts(size: int, parts: int) -> list[int]:
    each = -(-size // parts)  # as ONNX splits: equal parts, the last one smaller
    return [min(each, size - i * each) for i in range(parts)]


def arithmetic(op: str, args: list[np.ndarray]) -> np.ndarray:
    """Element-wise arithmetic on constants (shapes mostly); multiples of the batch size survive products and
    exact divisions by numbers (anything else raises BatchArithmetic or TypeError)."""
    if op == "Neg":
        return -args[0]
    if op == "Sqrt":
        return np.sqrt(args[0])
    if op == "Where":
        return np.where(args[0].astype(bool), args[1], args[2])
    a, b = args
    _within_budget(np.broadcast_shapes(np.shape(a), np.shape(b)), f"the result of {op}")
    if op == "Equal":  # a multiple of the batch size equals no number
        return np.equal(a, b).astype(bool)
    if op == "Div":
        return a // b if a.dtype.kind in "iuO" and b.dtype.kind in "iuO" else a / b
    return {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Mod": np.mod}[op](a, b)
