"""Tests for llmath.models.weights: the safetensors loader against the file's known contents,
safetensors' own torch loader and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import save_file
from safetensors.torch import load_file as torch_load_file

from llmath.models.weights import load_safetensors

TINY = Path(__file__).parents[1] / "data" / "tiny.safetensors"


def test_known_contents_in_float64() -> None:
    state = load_safetensors(TINY)
    assert list(state) == ["dense.bias", "dense.weight", "position_ids"]
    np.testing.assert_array_equal(state["dense.weight"], np.arange(6).reshape(2, 3) / 4)
    assert state["dense.weight"].dtype == np.float64
    assert state["position_ids"].dtype == np.int64  # integers keep their dtype
    np.testing.assert_array_equal(state["dense.bias"], [0.5, -1.0])


def test_keep_stored_dtype_and_rename() -> None:
    state = load_safetensors(str(TINY), name_map={"dense.weight": "w"}, float64=False)
    assert set(state) == {"w", "dense.bias", "position_ids"}
    assert state["w"].dtype == np.float32


def test_agrees_with_the_torch_loader(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "a": rng.normal(size=(3, 4)).astype(np.float32),
        "b": rng.normal(size=(5,)).astype(np.float16),
        "c": rng.integers(0, 9, size=(2, 2)).astype(np.int32),
    }
    f = tmp_path / "x.safetensors"
    save_file(arrays, str(f))
    ours = load_safetensors(f)
    ref = torch_load_file(str(f))
    for k, v in ref.items():
        np.testing.assert_array_equal(ours[k], v.double().numpy() if v.is_floating_point() else v)


@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["float16", "float32", "float64", "int8", "int64"]),
    st.integers(0, 2**32 - 1),
)
def test_round_trip_of_any_shape_and_dtype(shape: list[int], dtype: str, seed: int) -> None:
    import tempfile

    x = (np.random.default_rng(seed).normal(size=shape) * 50).astype(dtype)
    with tempfile.TemporaryDirectory() as folder:
        f = Path(folder) / "x.safetensors"
        save_file({"x": x}, str(f))
        kept = load_safetensors(f, float64=False)["x"]
        wide = load_safetensors(f)["x"]
    assert kept.dtype == x.dtype
    np.testing.assert_array_equal(kept, x)
    np.testing.assert_array_equal(wide, x.astype(np.float64) if x.dtype.kind == "f" else x)


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="path must name an existing"):
        load_safetensors(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="path must be a str"):
        load_safetensors(3)  # type: ignore[arg-type]
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_safetensors(bad)
    with pytest.raises(ValueError, match="name_map names 'nope'"):
        load_safetensors(TINY, name_map={"nope": "x"})
    with pytest.raises(ValueError, match="two tensors the name"):
        load_safetensors(TINY, name_map={"dense.weight": "dense.bias"})
    with pytest.raises(ValueError, match="name_map must map str to str"):
        load_safetensors(TINY, name_map={"dense.weight": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="float64 must be True or False"):
        load_safetensors(TINY, float64="yes")  # type: ignore[arg-type]
