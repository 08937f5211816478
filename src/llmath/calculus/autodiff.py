r"""A scalar reverse-mode automatic differentiation engine, in the spirit of micrograd.

Every arithmetic operation on a [Value][llmath.calculus.autodiff.Value] makes a new node that
remembers its parents and a closure returning the *local* derivatives
$\partial\,\text{node} / \partial\,\text{parent}$. `backward()` then applies the chain rule once
per edge, in reverse topological order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

from llmath._checks import check_real

__all__ = ["OpCount", "Value", "count_ops", "topological_order"]

Local = Callable[[], tuple[float, ...]]  # returns d(node)/d(parent) for each parent


def _as_float(x: object, what: str) -> float:
    return check_real(x, name=what)


class Value:
    r"""A scalar that records how it was computed, so that gradients can flow back through it.

    A leaf is made by `Value(2.0)`; every other node by an operation: `+ - * /`, `** c` for a
    constant `c`, unary `-`, and the methods `exp`, `log`, `tanh`, `sigmoid`, `relu`. Plain
    numbers mix in freely (`2 * x`, `1 - x`) and become leaves. Values are float64 Python
    floats; a result that is not finite raises `ValueError` instead of propagating `inf`.

    Attributes:
        data: the value, a Python float.
        grad: $\partial \mathcal{L} / \partial\,\text{self}$ after `loss.backward()` (for any output `loss`); starts at 0.0.
        parents: the nodes this one was computed from (empty for a leaf).
        op: the operation that made this node, such as `"*"` or `"tanh"` (`""` for a leaf).
        label: an optional name, used in `repr` and in figures.

    Raises:
        ValueError: if `data` is not a finite real number (`True`, `"3"` and integers beyond
            float64 are refused), `label` is not a string, or a result or a gradient overflows
            float64.
        TypeError: if an operand is not a number or a Value (Python's rule for operators).

    Examples:
        >>> x = Value(3.0, label="x")
        >>> y = x * x + 2 * x
        >>> y.backward()
        >>> y, x.grad
        (Value(data=15.0, grad=1.0, op='+'), 8.0)
    """

    __slots__ = ("_local", "data", "grad", "label", "op", "parents")

    def __init__(self, data: float, *, label: str = "") -> None:
        if not isinstance(label, str):
            raise ValueError(f"label must be a string; got {label!r:.60}")
        self.data = _as_float(data, "data")
        self.grad = 0.0
        self.parents: tuple[Value, ...] = ()
        self.op = ""
        self.label = label
        self._local: Local = tuple  # a leaf has no local derivatives

    # --8<-- [start:node]
    @staticmethod
    def _node(data: float, parents: tuple[Value, ...], op: str, local: Local) -> Value:
        # local() returns d(out)/d(parent) for each parent; backward() calls it.
        if not math.isfinite(data):
            raise ValueError(f"result of {op!r} is not finite: {data} (overflow?)")
        out = Value(data)
        out.parents, out.op, out._local = parents, op, local
        return out

    # --8<-- [end:node]

    @staticmethod
    def _lift(other: object) -> Value | None:
        if isinstance(other, Value):
            return other
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            return None  # the operator returns NotImplemented, and Python raises TypeError
        return Value(other)  # type: ignore[arg-type]  # checks it: an int beyond float64 is refused, not an OverflowError

    # --8<-- [start:ops]
    def __add__(self, other: object) -> Value:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        return self._node(a + b, (self, o), "+", lambda: (1.0, 1.0))

    def __mul__(self, other: object) -> Value:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        return self._node(a * b, (self, o), "*", lambda: (b, a))

    # --8<-- [end:ops]

    # --8<-- [start:tanh]
    def tanh(self) -> Value:
        # --8<-- [end:tanh]
        r"""Return $\tanh(x)$, with local derivative $1 - \tanh^2(x)$.

        Returns:
            A new node.

        Examples:
            >>> Value(0.0).tanh()
            Value(data=0.0, grad=0.0, op='tanh')
        """
        # --8<-- [start:tanh-body]
        t = math.tanh(self.data)
        return self._node(t, (self,), "tanh", lambda: (1.0 - t * t,))
        # --8<-- [end:tanh-body]

    def __sub__(self, other: object) -> Value:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        a, b = self.data, o.data
        return self._node(a - b, (self, o), "-", lambda: (1.0, -1.0))

    def __truediv__(self, other: object) -> Value:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        if o.data == 0.0:
            raise ZeroDivisionError(f"Value division by zero: {self.data} / 0.0")
        a, b = self.data, o.data
        return self._node(a / b, (self, o), "/", lambda: (1.0 / b, -a / (b * b)))

    def __pow__(self, n: object) -> Value:
        if isinstance(n, Value):
            raise TypeError(
                "the exponent must be a constant int or float, not a Value; "
                "write (y * x.log()).exp() for x ** y"
            )
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            return NotImplemented
        x, n = self.data, _as_float(n, "exponent")
        if x < 0.0 and not n.is_integer():
            raise ValueError(f"{x} ** {n}: a negative base needs an integer exponent")
        if x == 0.0 and n < 0.0:
            raise ZeroDivisionError(f"0.0 ** {n}: zero cannot be raised to a negative power")
        try:
            y = x**n
        except OverflowError:
            raise ValueError(f"result of '**{n:g}' is not finite: {x} ** {n} overflows") from None

        def local() -> tuple[float, ...]:
            if x == 0.0 and 0.0 < n < 1.0:
                raise ValueError(f"d/dx x ** {n} is infinite at x = 0")
            try:
                return (n * x ** (n - 1.0),)
            except OverflowError:
                return (math.inf,)  # backward() reports it

        return self._node(y, (self,), f"**{n:g}", local)

    def __neg__(self) -> Value:
        return self._node(-self.data, (self,), "neg", lambda: (-1.0,))

    def __radd__(self, other: object) -> Value:
        o = self._lift(other)
        return NotImplemented if o is None else o + self

    def __rsub__(self, other: object) -> Value:
        o = self._lift(other)
        return NotImplemented if o is None else o - self

    def __rmul__(self, other: object) -> Value:
        o = self._lift(other)
        return NotImplemented if o is None else o * self

    def __rtruediv__(self, other: object) -> Value:
        o = self._lift(other)
        return NotImplemented if o is None else o / self

    def exp(self) -> Value:
        r"""Return $e^x$, with local derivative $e^x$ (the output itself).

        Returns:
            A new node.

        Raises:
            ValueError: if $e^x$ overflows float64 ($x > 709.78$).

        Examples:
            >>> Value(0.0).exp().data
            1.0
        """
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise ValueError(f"exp({self.data}) overflows float64") from None
        return self._node(e, (self,), "exp", lambda: (e,))

    def log(self) -> Value:
        r"""Return the natural logarithm $\log x$, with local derivative $1/x$.

        Returns:
            A new node.

        Raises:
            ValueError: if $x \le 0$.

        Examples:
            >>> round(Value(math.e).log().data, 12)
            1.0
        """
        if self.data <= 0.0:
            raise ValueError(f"log needs a positive value; got {self.data}")
        x = self.data
        return self._node(math.log(x), (self,), "log", lambda: (1.0 / x,))

    def sigmoid(self) -> Value:
        r"""Return $\sigma(x) = 1 / (1 + e^{-x})$, with local derivative $\sigma(x)(1 - \sigma(x))$.

        Computed as $e^{x} / (1 + e^{x})$ for $x < 0$, so that $e^{-x}$ never overflows.

        Returns:
            A new node.

        Examples:
            >>> Value(0.0).sigmoid().data
            0.5
        """
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x))
        return self._node(s, (self,), "sigmoid", lambda: (s * (1.0 - s),))

    def relu(self) -> Value:
        r"""Return $\max(0, x)$, with local derivative 1 for $x > 0$ and 0 otherwise (PyTorch's choice at 0).

        Returns:
            A new node.

        Examples:
            >>> Value(-2.0).relu().data, Value(3.0).relu().data
            (0.0, 3.0)
        """
        x = self.data
        return self._node(max(0.0, x), (self,), "relu", lambda: (1.0 if x > 0.0 else 0.0,))

    # --8<-- [start:backward]
    def backward(self) -> None:
        # --8<-- [end:backward]
        r"""Set `grad` of every node upstream of `self` to $\partial\,\text{self} / \partial\,\text{node}$.

        One sweep in reverse topological order; each edge does one multiply-add,

        $$
        \bar p \mathrel{+}= \frac{\partial v}{\partial p}\, \bar v
        \qquad \text{for each parent } p \text{ of each node } v .
        $$

        A node used twice (`x * x`) receives one term per use. Leaves *accumulate* across calls,
        as in PyTorch; interior nodes are reset first, so a second call adds exactly one more
        gradient to the leaves. The sort is iterative, so a graph of any depth works.

        Raises:
            ValueError: if a local derivative is infinite (`x ** 0.5` at `x = 0`) or a gradient
                overflows float64.

        Examples:
            >>> x = Value(2.0)
            >>> y = x * x * x
            >>> y.backward()
            >>> x.grad
            12.0
        """
        # --8<-- [start:backward-body]
        order = topological_order(self)  # every parent before its children
        for node in order:
            if node.parents:
                node.grad = 0.0  # interior gradients belong to this sweep only
        self.grad += 1.0  # d self / d self
        for node in reversed(order):
            for parent, local in zip(node.parents, node._local(), strict=True):
                parent.grad += local * node.grad  # the chain rule, one edge at a time
                # Python floats overflow to inf silently
                if not math.isfinite(parent.grad):
                    raise ValueError(
                        f"the gradient overflows float64 at a node {parent!r} "
                        f"(local derivative {local!r} "
                        f"times upstream gradient {node.grad!r})"
                    )
        # --8<-- [end:backward-body]

    def __repr__(self) -> str:
        extra = (f", op={self.op!r}" if self.op else "") + (
            f", label={self.label!r}" if self.label else ""
        )
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"


# --8<-- [start:topo]
def topological_order(root: Value) -> list[Value]:
    # --8<-- [end:topo]
    r"""Return every node `root` depends on, each after all of its parents, `root` last.

    An iterative depth-first search with an explicit stack (no recursion limit): a node is
    pushed once to be expanded and once more to be emitted after its parents.

    Args:
        root: the node to start from.

    Returns:
        The nodes, each exactly once, leaves first.

    Raises:
        ValueError: if `root` is not a Value.

    Examples:
        >>> x = Value(1.0, label="x")
        >>> [v.label or v.op for v in topological_order(x * x + 1)]
        ['x', '*', '', '+']
    """
    # --8<-- [start:topo-body]
    if not isinstance(root, Value):
        raise ValueError(f"root must be a Value; got {type(root).__name__}")
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack += [(p, False) for p in reversed(node.parents) if id(p) not in seen]
    return order
    # --8<-- [end:topo-body]


class OpCount(NamedTuple):
    """The size of a graph, as counted by [count_ops][llmath.calculus.autodiff.count_ops]."""

    leaves: int
    """Nodes made by `Value(...)`: inputs, parameters and constants."""
    ops: int
    """Operation nodes: one primitive each in the forward sweep."""
    edges: int
    """Parent links: one multiply-add each in the backward sweep."""


def count_ops(*roots: Value) -> OpCount:
    r"""Count the leaves, operations and edges of the graph that computes `roots`.

    The forward sweep evaluates each operation once; `backward()` does one multiply-add per
    edge, and an operation has at most two parents, so a backward sweep does at most
    $2 \times$ `ops` multiply-adds (plus one local derivative per edge). With several roots,
    nodes they share are counted once.

    Args:
        *roots: one or more output nodes.

    Returns:
        `OpCount(leaves, ops, edges)`; `leaves + ops` is the number of stored values.

    Raises:
        ValueError: if no root is given or a root is not a Value.

    Examples:
        >>> x = Value(1.0)
        >>> count_ops((x * x).tanh())
        OpCount(leaves=1, ops=2, edges=3)
    """
    if not roots:
        raise ValueError("count_ops needs at least one root Value; got none")
    for i, root in enumerate(roots):
        if not isinstance(root, Value):
            raise ValueError(f"roots[{i}] must be a Value; got {type(root).__name__}")
    nodes = {id(v): v for root in roots for v in topological_order(root)}.values()
    ops = [v for v in nodes if v.parents]
    return OpCount(len(nodes) - len(ops), len(ops), sum(len(v.parents) for v in ops))
