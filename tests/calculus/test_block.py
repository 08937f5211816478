"""The transformer block's hand-written backward against torch.autograd and finite differences."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from llmath import ShapeError
from llmath.calculus.block import BlockParams, block_backward, block_forward
from llmath.calculus.numerical import numerical_grad


def _params(rng: np.random.Generator, D: int, Fw: int) -> BlockParams:
    def n(*shape: int, scale: float = 1.0) -> np.ndarray:
        return scale * rng.normal(size=shape)

    return BlockParams(
        1 + n(D, scale=0.1), n(D, scale=0.1),
        *(n(D, D, scale=D**-0.5) for _ in range(4)),
        1 + n(D, scale=0.1), n(D, scale=0.1),
        n(D, Fw, scale=D**-0.5), n(Fw, scale=0.1), n(Fw, D, scale=Fw**-0.5), n(D, scale=0.1),
    )  # fmt: skip


def _torch_block(
    x: torch.Tensor, p: list[torch.Tensor], H: int, approximate: str = "none"
) -> torch.Tensor:
    """The same block from torch's own ops (layer_norm, sdpa with is_causal, gelu)."""
    g1, b1, wq, wk, wv, wo, g2, b2, w1, c1, w2, c2 = p
    *lead, T, D = x.shape

    def heads(z: torch.Tensor) -> torch.Tensor:
        return z.reshape(*lead, T, H, D // H).transpose(-3, -2)  # (..., H, T, K)

    n1 = F.layer_norm(x, (D,), g1, b1, eps=1e-5)
    a = F.scaled_dot_product_attention(
        heads(n1 @ wq), heads(n1 @ wk), heads(n1 @ wv), is_causal=True
    )
    h = x + a.transpose(-3, -2).reshape(*lead, T, D) @ wo
    n2 = F.layer_norm(h, (D,), g2, b2, eps=1e-5)
    return h + F.gelu(n2 @ w1 + c1, approximate=approximate) @ w2 + c2


def _torch_grads(
    x: np.ndarray, p: BlockParams, H: int, dout: np.ndarray, approximate: str = "none"
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    tx = torch.from_numpy(x).requires_grad_(True)
    tp = [torch.from_numpy(a).requires_grad_(True) for a in p]
    out = _torch_block(tx, tp, H, approximate)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), tx.grad.numpy(), [t.grad.numpy() for t in tp]


@settings(max_examples=20)
@given(
    st.sampled_from([(), (1,), (3,)]),
    st.integers(1, 5),
    st.sampled_from([(4, 1, 8), (8, 2, 32), (6, 3, 12)]),
    st.sampled_from(["none", "tanh"]),
    st.integers(0, 2**32 - 1),
)
def test_matches_torch_autograd(
    lead: tuple[int, ...], T: int, dims: tuple[int, int, int], approximate: str, seed: int
) -> None:
    D, H, Fw = dims
    rng = np.random.default_rng(seed)
    x, dout, p = rng.normal(size=(*lead, T, D)), rng.normal(size=(*lead, T, D)), _params(rng, D, Fw)
    out, cache = block_forward(x, p, num_heads=H, approximate=approximate)
    dx, grads = block_backward(dout, cache)
    t_out, t_dx, t_grads = _torch_grads(x, p, H, dout, approximate)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-11)
    for name, g, t in zip(BlockParams._fields, grads, t_grads, strict=True):
        assert g.shape == t.shape, name
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-11, err_msg=name)


def test_finite_differences_every_parameter(rng: np.random.Generator) -> None:
    D, H, Fw, T = 4, 2, 8, 3
    x, r, p = rng.normal(size=(T, D)), rng.normal(size=(T, D)), _params(rng, D, Fw)
    dx, grads = block_backward(r, block_forward(x, p, num_heads=H)[1])  # loss = sum(r * out)

    def loss_x(z: np.ndarray) -> float:
        return float(np.sum(r * block_forward(z, p, num_heads=H)[0]))

    np.testing.assert_allclose(dx, numerical_grad(loss_x, x), rtol=1e-6, atol=1e-8)
    for i, name in enumerate(BlockParams._fields):

        def loss(z: np.ndarray, i: int = i) -> float:
            return float(
                np.sum(r * block_forward(x, p._replace(**{p._fields[i]: z}), num_heads=H)[0])
            )

        np.testing.assert_allclose(
            grads[i], numerical_grad(loss, p[i]), rtol=1e-6, atol=1e-8, err_msg=name
        )


def test_causal_gradient_of_out_t_ignores_later_tokens(rng: np.random.Generator) -> None:
    T, D = 5, 8
    x, p = rng.normal(size=(T, D)), _params(rng, D, 16)
    out, cache = block_forward(x, p, num_heads=2)
    for t in range(T):
        dout = np.zeros((T, D))
        dout[t] = rng.normal(size=D)
        dx, _ = block_backward(dout, cache)
        assert np.all(dx[t + 1 :] == 0.0)  # exactly: masked weights are exactly 0
        assert np.all(np.abs(dx[: t + 1]).sum(axis=1) > 0)
    # and the forward agrees: changing a later token leaves out_t unchanged
    x2 = x.copy()
    x2[3] += 1.0
    np.testing.assert_array_equal(block_forward(x2, p, num_heads=2)[0][:3], out[:3])


def test_batch_is_independent_sequences_and_parameter_grads_add(rng: np.random.Generator) -> None:
    B, T, D = 3, 4, 8
    x, dout, p = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D)), _params(rng, D, 32)
    out, cache = block_forward(x, p, num_heads=2)
    dx, grads = block_backward(dout, cache)
    singles = [block_backward(dout[b], block_forward(x[b], p, num_heads=2)[1]) for b in range(B)]
    for b, (dx_b, _) in enumerate(singles):
        np.testing.assert_allclose(out[b], block_forward(x[b], p, num_heads=2)[0], rtol=1e-14)
        np.testing.assert_allclose(dx[b], dx_b, rtol=1e-12, atol=1e-14)
    for i, name in enumerate(BlockParams._fields):
        total = sum(g[i] for _, g in singles)
        np.testing.assert_allclose(grads[i], total, rtol=1e-11, atol=1e-13, err_msg=name)


@given(st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_bias_gradients_in_closed_form(T: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, dout, p = rng.normal(size=(2, T, 4)), rng.normal(size=(2, T, 4)), _params(rng, 4, 8)
    _, grads = block_backward(dout, block_forward(x, p, num_heads=2)[1])
    # b_2 is added to every output row: its gradient is the summed upstream gradient
    np.testing.assert_allclose(grads.b_2, dout.sum(axis=(0, 1)), rtol=1e-13)
    # beta_2 enters only through u = (... + beta_2) W_1 + b_1, so d beta_2 = d b_1 W_1^T
    np.testing.assert_allclose(grads.ln2_beta, grads.b_1 @ p.w_1.T, rtol=1e-10, atol=1e-12)


def test_inputs_not_mutated(rng: np.random.Generator) -> None:
    x, p = rng.normal(size=(3, 4)), _params(rng, 4, 8)
    x0, p0 = x.copy(), [a.copy() for a in p]
    dout = rng.normal(size=(3, 4))
    d0 = dout.copy()
    block_backward(dout, block_forward(x, p, num_heads=2)[1])
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dout, d0)
    for a, b in zip(p, p0, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_input(rng: np.random.Generator) -> None:
    p = _params(rng, 4, 8)
    x = rng.normal(size=(3, 4))
    with pytest.raises(ShapeError, match=r"w_1 must have shape \(D, F\)"):
        block_forward(x, p._replace(w_1=np.ones((5, 8))), num_heads=2)
    with pytest.raises(ShapeError, match=r"b_1 must have shape \(F,\) = \(8,\); got \(7,\)"):
        block_forward(x, p._replace(b_1=np.ones(7)), num_heads=2)
    with pytest.raises(ShapeError, match=r"ln1_gamma must have shape \(D,\)"):
        block_forward(x, p._replace(ln1_gamma=np.ones(3)), num_heads=2)
    with pytest.raises(ShapeError, match=r"x must have shape \(\.\.\., T, D\)"):
        block_forward(np.ones(4), p, num_heads=2)
    with pytest.raises(ValueError, match="must divide the width D=4"):
        block_forward(x, p, num_heads=3)
    _, cache = block_forward(x, p, num_heads=2)
    with pytest.raises(ShapeError, match=r"dout must have shape \(\.\.\., T, D\) = \(3, 4\)"):
        block_backward(np.ones((1, 3, 4)), cache)


@settings(max_examples=20)
@given(st.sampled_from([(), (2,)]), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_per_token_gradient_sum_passes_through_unchanged(
    lead: tuple[int, ...], T: int, seed: int
) -> None:
    # dx = dout + (two layer-norm backward outputs), and those have zero mean over D.
    rng = np.random.default_rng(seed)
    x, dout, p = rng.normal(size=(*lead, T, 8)), rng.normal(size=(*lead, T, 8)), _params(rng, 8, 16)
    dx, _ = block_backward(dout, block_forward(x, p, num_heads=2)[1])
    np.testing.assert_allclose(dx.sum(axis=-1), dout.sum(axis=-1), rtol=0, atol=1e-12)


def test_bad_params_and_options(rng: np.random.Generator) -> None:
    p, x = _params(rng, 4, 8), rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match="params must be a BlockParams of 12 arrays"):
        block_forward(x, tuple(p)[:11], num_heads=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="approximate"):
        block_forward(x, p, num_heads=2, approximate="fast")
    with pytest.raises(ValueError, match="eps"):
        block_forward(x, p, num_heads=2, eps=-1.0)
    with pytest.raises(ValueError, match="x must be finite"):
        block_forward(np.full((3, 4), np.nan), p, num_heads=2)


# --- the chapter's worked example ----------------------------------------------------------


def test_example_tables_against_torch() -> None:
    from examples.calculus import block as ex

    t = ex.tables()
    assert set(t) == {
        "block-backprop/gradient-check",
        "block-backprop/residual",
        "block-backprop/stack",
    }
    e = ex.example()
    x, p, r = e["x"], e["params"], e["r"]
    # gradient-check: max |grad| from this file's own torch block; errors at rounding level
    _, t_dx, t_grads = _torch_grads(x, p, ex.H, r)
    gc = t["block-backprop/gradient-check"]
    assert gc.shape == (13, 3)
    np.testing.assert_array_equal(ex.gradient_check()[:, 0], [a.size for a in (x, *p)])
    np.testing.assert_allclose(gc[:, 0], [np.abs(g).max() for g in (t_dx, *t_grads)], rtol=1e-12)
    assert np.all(gc[:, 1] < 64)  # vs torch, in units of eps
    # vs finite differences, in units of 1e-10: central differences at the default step are
    # accurate to about eps^(2/3) ~ 4e-11 relative, so a correct gradient shows O(1) here
    assert np.all(gc[:, 2] < 100)
    assert np.all(gc[:, 2] > 0.01)
    # residual: singular values of the block Jacobian computed by torch.autograd.functional
    tp = [torch.from_numpy(a) for a in p]
    J = torch.autograd.functional.jacobian(
        lambda z: _torch_block(z, tp, ex.H), torch.from_numpy(x)
    ).reshape(x.size, x.size)
    eye = torch.eye(x.size)
    expected = []
    for m in (J, J - eye):
        s = torch.linalg.svdvals(m)
        expected.append([s[0], s[-1], torch.linalg.norm(m) / x.size**0.5])
    np.testing.assert_allclose(
        t["block-backprop/residual"], np.array(expected), rtol=1e-9, atol=1e-12
    )


def test_example_stack_against_torch() -> None:
    from examples.calculus import block as ex

    # rebuild the figure's stack from the example's seeded inputs, differentiate it with torch
    rng = np.random.default_rng(ex.SEED + 2)
    blocks = [[torch.from_numpy(a) for a in ex.make_params(rng)] for _ in range(ex.DEPTH)]
    x0 = torch.from_numpy(rng.standard_normal((ex.T, ex.D)))

    def stack(z: torch.Tensor, first: int) -> torch.Tensor:
        for p in blocks[first:]:
            z = _torch_block(z, p, ex.H)
        return z

    n = ex.T * ex.D
    rows = ex.tables()["block-backprop/stack"]  # depths 1, 2, 4, 8, 16, 24
    for row, depth in zip(rows, (1, 2, 4, 8, 16, 24), strict=True):
        first = ex.DEPTH - depth
        z = x0
        for p in blocks[:first]:
            z = _torch_block(z, p, ex.H)
        with torch.no_grad():
            z = z.detach()
        J = torch.autograd.functional.jacobian(
            lambda a, f=first: stack(a, f), z, vectorize=True
        ).reshape(n, n)
        s = torch.linalg.svdvals(J)
        expected = [torch.linalg.norm(J) / n**0.5, s[-1], s[0]]
        np.testing.assert_allclose(row, np.array(expected), rtol=1e-9, err_msg=f"depth {depth}")
    # and the exact facts the page states about the chapter's block
    ms = ex.mean_shift_check()
    assert ms["null"] == ex.T
    assert ms["Jv_minus_v"] < 1e-13
    assert ms["grad_mean_diff"] < 1e-13
