r"""Optimisers: SGD with momentum, RMSProp, Adam and AdamW, with `torch.optim`'s update rules.

Each optimiser keeps the parameter arrays it was given and updates them *in place* when
`step(grads)` is called, as `torch.optim` does; its state is plain attributes: `t` (steps taken),
`m` (first moment or momentum buffer), `v` (second moment), one array per parameter, and `lr`,
which a schedule may set before each step. A step first computes every new value and only then
writes them, so an overflow raises `ValueError` and leaves the parameters untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmath._checks import ShapeError, as_float_array, check_bool, check_real

__all__ = ["SGD", "Adam", "AdamW", "RMSProp"]

Array = NDArray[np.float64]
_Update = tuple[Array, dict[str, Array]]  # a parameter's new value and its new state arrays


def _as_list(arrays: object, *, name: str, what: str) -> list[Any]:
    """`arrays` as a list, refusing a bare array, a string and anything that is not a sequence."""
    if isinstance(arrays, str | bytes) or not isinstance(arrays, Sequence):
        got = f"a numpy array of shape {arrays.shape}" if isinstance(arrays, np.ndarray) else None
        raise ValueError(
            f"{name} must be a list of {what} (write [w] for one array); "
            f"got {got or type(arrays).__name__}"
        )
    if len(arrays) == 0:
        raise ValueError(f"{name} must hold at least one array; got none")
    return list(arrays)


def _check_params(params: object) -> list[Array]:
    out = _as_list(params, name="params", what="float64 numpy arrays")
    for i, p in enumerate(out):
        as_float_array(p, name=f"params[{i}]", expected="(...)")  # type, NaN, inf, empty
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64 and p.flags.writeable):
            kind = f"dtype {p.dtype}" if isinstance(p, np.ndarray) else type(p).__name__
            raise ValueError(
                f"params[{i}] must be a writeable float64 numpy array (it is updated in "
                f"place); got {kind}"
            )
    return out


def _check_grads(grads: object, params: list[Array]) -> list[Array]:
    gs = _as_list(grads, name="grads", what="arrays, one per parameter")
    if len(gs) != len(params):
        raise ValueError(f"grads must hold one array per parameter: {len(params)}; got {len(gs)}")
    out = []
    for i, (g, p) in enumerate(zip(gs, params, strict=True)):
        ga = as_float_array(g, name=f"grads[{i}]", expected=f"{p.shape}")
        if ga.shape != p.shape:
            raise ShapeError(
                f"grads[{i}] must have the shape of params[{i}], {p.shape}; got {ga.shape}"
            )
        out.append(ga)
    return out


def _unit(value: object, *, name: str) -> float:
    """A decay rate in [0, 1)."""
    x = check_real(value, name=name, at_least=0, at_most=1)
    if x == 1:
        raise ValueError(f"{name} must lie in [0, 1); got 1 (nothing would ever be forgotten)")
    return x


def _check_betas(betas: object) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1); got {betas!r:.40}")
    return _unit(betas[0], name="betas[0]"), _unit(betas[1], name="betas[1]")


class _Optimizer:
    """What every optimiser shares: the parameters, `lr`, the step count `t` and `step`."""

    _state: tuple[str, ...] = ()  # the names of the per-parameter state lists

    def __init__(self, params: Sequence[NDArray[np.float64]], *, lr: float) -> None:
        self.params = _check_params(params)
        self.lr = check_real(lr, name="lr", at_least=0)
        self.t = 0
        for name in self._state:
            setattr(self, name, [np.zeros_like(p) for p in self.params])

    def step(self, grads: Sequence[ArrayLike]) -> None:
        r"""Take one step: update every parameter array in place, given its gradient.

        Args:
            grads: one gradient per parameter, each of its parameter's shape.

        Raises:
            ShapeError: if a gradient's shape differs from its parameter's.
            ValueError: if `grads` is not a list with one finite real array per parameter,
                `lr` has been set to a negative or non-finite value, or the update overflows.
        """
        lr = check_real(self.lr, name="lr", at_least=0)
        gs = _check_grads(grads, self.params)
        t = self.t + 1
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                new = [self._update(i, g, lr, t) for i, g in enumerate(gs)]
        except FloatingPointError as exc:
            raise ValueError(
                f"{type(self).__name__}.step: the update overflows float64 ({exc}); "
                "grads or params hold extreme values"
            ) from None
        for i, (p, state) in enumerate(new):
            self.params[i][...] = p  # in place: the caller's arrays change
            for name, value in state.items():
                getattr(self, name)[i] = value
        self.t = t

    def _update(self, i: int, g: Array, lr: float, t: int) -> _Update:
        raise NotImplementedError  # pragma: no cover


class SGD(_Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    $$
    \begin{aligned}
    d_t &= g_t + \lambda \theta_{t-1}, \qquad
    m_t = \mu\, m_{t-1} + d_t, \\
    \theta_t &= \theta_{t-1} - \eta\, m_t
    \quad (\text{Nesterov: } \eta\,(d_t + \mu m_t)),
    \end{aligned}
    $$

    with $m_0 = 0$, as `torch.optim.SGD` without dampening. $\mu = 0$ is plain gradient
    descent, $\theta \leftarrow \theta - \eta\, d$.

    Args:
        params: the parameter arrays, float64, updated in place by `step`.
        lr: the learning rate $\eta \ge 0$.
        momentum: $\mu \in [0, 1)$.
        nesterov: use Nesterov's look-ahead form (needs $\mu > 0$).
        weight_decay: $\lambda \ge 0$, added to the gradient as $\lambda\theta$.

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> w = np.array([1.0, -2.0])
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> opt.step([w.copy()]); opt.step([w.copy()])
        >>> w.round(4), opt.t
        (array([ 0.72, -1.44]), 2)

    Polyak (1964); Sutskever et al. (2013), Sect. 2, for the Nesterov form.
    """

    _state = ("m",)

    def __init__(
        self,
        params: Sequence[NDArray[np.float64]],
        *,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        self.m: list[Array] = []
        super().__init__(params, lr=lr)
        self.momentum = _unit(momentum, name="momentum")
        self.nesterov = check_bool(nesterov, name="nesterov")
        self.weight_decay = check_real(weight_decay, name="weight_decay", at_least=0)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0; got momentum=0")

    # --8<-- [start:sgd]
    def _update(self, i: int, g: Array, lr: float, t: int) -> _Update:
        p, mu = self.params[i], self.momentum
        d = g + self.weight_decay * p if self.weight_decay else g  # L2 in the gradient
        if mu == 0:
            return p - lr * d, {}
        m = mu * self.m[i] + d  # heavy ball: a running sum of past gradients
        return p - lr * (d + mu * m if self.nesterov else m), {"m": m}
        # --8<-- [end:sgd]


class RMSProp(_Optimizer):
    r"""RMSProp: divide each coordinate's gradient by a running root mean square of its past.

    $$
    \begin{aligned}
    v_t &= \alpha v_{t-1} + (1 - \alpha)\, g_t^2, \\
    \theta_t &= \theta_{t-1}
      - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon},
    \end{aligned}
    $$

    elementwise, $v_0 = 0$; with momentum $\mu > 0$ the ratio feeds a buffer
    $m_t = \mu m_{t-1} + g_t / (\sqrt{v_t} + \epsilon)$ and $\theta_t = \theta_{t-1} - \eta m_t$;
    weight decay adds $\lambda\theta$ to $g_t$ first. As `torch.optim.RMSprop` (not centred).

    Args:
        params: the parameter arrays, float64, updated in place by `step`.
        lr: $\eta \ge 0$.
        alpha: the decay $\alpha \in [0, 1)$ of the mean square.
        eps: $\epsilon > 0$, added to the root mean square.
        weight_decay: $\lambda \ge 0$.
        momentum: $\mu \in [0, 1)$.

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> w = np.array([1.0, -2.0])
        >>> RMSProp([w], lr=0.01).step([[1e-3, 5.0]])
        >>> w.round(4)
        array([ 0.9, -2.1])

    Tieleman and Hinton (2012), lecture 6e.
    """

    _state = ("m", "v")

    def __init__(
        self,
        params: Sequence[NDArray[np.float64]],
        *,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        self.m: list[Array] = []
        self.v: list[Array] = []
        super().__init__(params, lr=lr)
        self.alpha = _unit(alpha, name="alpha")
        self.eps = check_real(eps, name="eps", above=0)
        self.weight_decay = check_real(weight_decay, name="weight_decay", at_least=0)
        self.momentum = _unit(momentum, name="momentum")

    # --8<-- [start:rmsprop]
    def _update(self, i: int, g: Array, lr: float, t: int) -> _Update:
        p, a = self.params[i], self.alpha
        d = g + self.weight_decay * p if self.weight_decay else g
        v = a * self.v[i] + (1 - a) * d * d  # running mean of squared gradients
        scaled = d / (np.sqrt(v) + self.eps)  # each coordinate divided by its RMS
        if self.momentum == 0:
            return p - lr * scaled, {"v": v}
        m = self.momentum * self.m[i] + scaled
        return p - lr * m, {"m": m, "v": v}
        # --8<-- [end:rmsprop]


class Adam(_Optimizer):
    r"""Adam: momentum on the gradient, RMSProp's scaling, both bias-corrected.

    $$
    \begin{aligned}
    m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \\
    v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2, \\
    \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}
      \frac{m_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon},
    \end{aligned}
    $$

    elementwise, $m_0 = v_0 = 0$. `weight_decay` $\lambda$ adds $\lambda\theta$ to $g_t$
    (L2 regularisation, then rescaled by $1/\sqrt{v_t}$ like the gradient), as
    `torch.optim.Adam`; see [AdamW][llmath.training.optimizers.AdamW] for the decoupled form.
    `bias_correction=False` drops both factors $1 - \beta^t$ (the book's demonstration of why
    they are there); $\epsilon$ sits outside the square root, as in PyTorch.

    Args:
        params: the parameter arrays, float64, updated in place by `step`.
        lr: $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$.
        eps: $\epsilon > 0$.
        weight_decay: $\lambda \ge 0$, L2 added to the gradient.
        bias_correction: divide by $1 - \beta_1^t$ and $1 - \beta_2^t$ (default).

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> w = np.array([1.0, -2.0])
        >>> opt = Adam([w], lr=0.1)
        >>> opt.step([[1e-3, 5.0]])  # the first step moves each coordinate by about lr
        >>> w.round(4), opt.t
        (array([ 0.9, -2.1]), 1)

    Kingma and Ba (2015), Algorithm 1.
    """

    _state = ("m", "v")

    def __init__(
        self,
        params: Sequence[NDArray[np.float64]],
        *,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        bias_correction: bool = True,
    ) -> None:
        self.m: list[Array] = []
        self.v: list[Array] = []
        super().__init__(params, lr=lr)
        self.betas = _check_betas(betas)
        self.eps = check_real(eps, name="eps", above=0)
        self.weight_decay = check_real(weight_decay, name="weight_decay", at_least=0)
        self.bias_correction = check_bool(bias_correction, name="bias_correction")

    # --8<-- [start:decay]
    def _decay(self, p: Array, g: Array, lr: float) -> tuple[Array, Array]:
        """Adam's weight decay: L2 added to the gradient (then divided by sqrt(v))."""
        return p, g + self.weight_decay * p if self.weight_decay else g
        # --8<-- [end:decay]

    # --8<-- [start:adam]
    def _update(self, i: int, g: Array, lr: float, t: int) -> _Update:
        (b1, b2), eps = self.betas, self.eps
        p, g = self._decay(self.params[i], g, lr)
        m = b1 * self.m[i] + (1 - b1) * g  # EMA of g: first moment
        v = b2 * self.v[i] + (1 - b2) * g * g  # EMA of g²: second moment
        if self.bias_correction:  # E[m_t] = (1 - b1^t) E[g]: divide it out
            step = lr / (1 - b1**t) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
        else:
            step = lr * m / (np.sqrt(v) + eps)
        return p - step, {"m": m, "v": v}
        # --8<-- [end:adam]


class AdamW(Adam):
    r"""AdamW: Adam with weight decay decoupled from the gradient.

    $$
    \begin{aligned}
    \theta' &= (1 - \eta\lambda)\, \theta_{t-1}, \\
    \theta_t &= \theta' - \frac{\eta}{1 - \beta_1^t}
      \frac{m_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon},
    \end{aligned}
    $$

    with $m_t, v_t$ Adam's moments of the *loss* gradient alone: the decay shrinks every
    weight by the same factor instead of being rescaled by $1/\sqrt{v_t}$. As
    `torch.optim.AdamW`.

    Args:
        params: the parameter arrays, float64, updated in place by `step`.
        lr: $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$.
        eps: $\epsilon > 0$.
        weight_decay: $\lambda \ge 0$ (default 0.01, PyTorch's).

    Raises:
        ValueError: naming the argument, for a bad value.

    Examples:
        >>> w = np.array([1.0, -2.0])
        >>> AdamW([w], lr=0.1, weight_decay=0.5).step([[0.0, 0.0]])  # decay alone
        >>> w
        array([ 0.95, -1.9 ])

    Loshchilov and Hutter (2019), Algorithm 2.
    """

    def __init__(
        self,
        params: Sequence[NDArray[np.float64]],
        *,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    # --8<-- [start:decoupled]
    def _decay(self, p: Array, g: Array, lr: float) -> tuple[Array, Array]:
        """AdamW's weight decay: shrink the weights, leave the gradient alone."""
        return p * (1 - lr * self.weight_decay), g
        # --8<-- [end:decoupled]
