"""The end-to-end chapter's training run (docs/examples/training/end_to_end.py): its first steps
against the torch twin (GPT2LMHeadModel, torch.optim.AdamW, clip_grad_norm_), its data and the
exact source distribution it is measured against."""

from __future__ import annotations

import examples.training.end_to_end as ex
import numpy as np
import pytest
import torch

from llmath import AdamW, loss_and_grads, parameters, train_step
from llmath.probability.ngram import generate_corpus


def _llmath_steps(n: int) -> tuple[list[float], list[float], object]:
    train, _ = ex.data()
    params = ex.initial_params()
    opt = AdamW(parameters(params), lr=ex.MAX_LR, betas=ex.BETAS, weight_decay=ex.WEIGHT_DECAY)
    losses, norms = [], []
    for step in range(n):
        batch = train[ex.batch_rows(step, len(train))]
        loss, norm = train_step(params, batch, opt, config=ex.CONFIG, lr=ex.lr_at(step),
                                max_norm=ex.MAX_NORM)  # fmt: skip
        losses.append(loss)
        norms.append(norm)
    return losses, norms, params


def test_first_steps_equal_the_torch_twin() -> None:
    n = 8
    losses, norms, params = _llmath_steps(n)
    train, _ = ex.data()
    model = ex.torch_model(ex.initial_params())
    opt = torch.optim.AdamW(model.parameters(), lr=ex.MAX_LR, betas=ex.BETAS,
                            weight_decay=ex.WEIGHT_DECAY)  # fmt: skip
    for step in range(n):
        model.zero_grad(set_to_none=True)
        loss = ex.torch_loss(model, train[ex.batch_rows(step, len(train))])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), ex.MAX_NORM)
        for group in opt.param_groups:
            group["lr"] = ex.lr_at(step)
        opt.step()
        assert losses[step] == pytest.approx(loss.item(), abs=1e-12)
        assert norms[step] == pytest.approx(norm.item(), abs=1e-12)
    ours = ex.gpt2_state(params)  # type: ignore[arg-type]
    for name, t in model.named_parameters():
        np.testing.assert_allclose(ours[name], t.detach().numpy(), rtol=0, atol=1e-12)


def test_the_cached_run_starts_like_a_fresh_one() -> None:
    t = ex.trained()
    losses, norms, _ = _llmath_steps(3)
    np.testing.assert_array_equal(t.losses[:3], losses)
    np.testing.assert_array_equal(t.grad_norms[:3], norms)
    assert t.val_ids is ex.data()[1] or np.array_equal(t.val_ids, ex.data()[1])
    assert len(t.val_losses) == len(t.eval_steps) == ex.STEPS // ex.EVAL_EVERY + 1
    assert t.val_expected[-1] < t.val_expected[0]


def test_windows_start_at_sentence_starts_and_decode_to_the_sentences() -> None:
    sentences = generate_corpus(np.random.default_rng(0), 30)
    w = ex.encode(sentences, n_ctx=12)
    assert w.shape[1] == 13 and (w[:, 0] == 0).all()
    parts = ex.decode(w[0][1:]).split(" </s> ")
    assert parts[0] == sentences[0]  # whole sentences, in order
    assert sentences[1].startswith(parts[1])  # the last one cut at the window's end


def test_true_next_is_the_grammars_conditional_distribution() -> None:
    """P(next | prefix) from the enumeration, against counts in a large sample."""
    table = ex.next_word_table()
    assert all(abs(row.sum() - 1) < 1e-12 for row in table.values())
    start = table[()]  # the first word: "the" 0.6, "a" 0.4
    assert start[ex.ID["the"]] == pytest.approx(0.6) and start[ex.ID["a"]] == pytest.approx(0.4)
    after_the = table[(ex.ID["the"],)]  # Det N (0.7) or Det Adj N (0.3)
    assert after_the[ex.ID["cat"]] == pytest.approx(0.7 * 0.3)
    assert after_the[ex.ID["small"]] == pytest.approx(0.3 * 0.4)
    w = ex.encode(generate_corpus(np.random.default_rng(1), 200))
    p = ex.true_next(w)
    assert p.shape == (*w[:, :-1].shape, ex.CONFIG.n_vocab)
    assert (p[np.arange(len(w))[:, None], np.arange(w.shape[1] - 1), w[:, 1:]] > 0).all()


def test_val_loss_is_next_token_loss_and_its_gradient_is_loss_and_grads() -> None:
    t = ex.trained()
    sampled, expected = ex.evaluate(t.params)
    assert sampled == pytest.approx(ex.val_loss(t.params), abs=1e-14)
    loss, _ = loss_and_grads(t.params, t.val_ids, config=t.config)
    assert loss == ex.val_loss(t.params) == t.val_loss() == t.val_loss(t.params)
    assert expected > ex.trained_gap().floor
