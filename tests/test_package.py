"""The package as a library user meets it: imports, exports, docstrings, no torch."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import llmath

MODULES = [
    importlib.import_module(m.name)
    for m in pkgutil.walk_packages(llmath.__path__, prefix="llmath.")
]
PUBLIC = [
    (name, getattr(llmath, name))
    for name in llmath.__all__
    if not name.startswith("__") and inspect.isfunction(getattr(llmath, name))
]


def test_import_does_not_import_torch_or_plotting() -> None:
    code = "import sys, llmath; print(sorted(m for m in ('torch', 'matplotlib', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_matches_distribution_metadata() -> None:
    from importlib.metadata import version

    assert llmath.__version__ == version("llmath")


def test_issue_api_is_exported_at_top_level() -> None:
    for name in (
        "softmax",
        "scaled_dot_product_attention",
        "multi_head_attention",
        "causal_mask",
        "low_rank_approx",
        "lora_param_count",
        # Part 2 (issue 3)
        "numerical_grad",
        "grad_check",
        "softmax_jacobian",
        "cross_entropy",
        "cross_entropy_grad",
        "layer_norm",
        "layer_norm_backward",
        "sigmoid",
        "sigmoid_grad",
        "tanh",
        "tanh_grad",
        "relu_grad",
        "gelu",
        "gelu_grad",
        "Value",
        # Part 3 (issue 4)
        "entropy",
        "cross_entropy_dist",
        "kl_divergence",
        "perplexity",
        "NGramModel",
        "apply_temperature",
        "top_k_filter",
        "top_p_filter",
        "sample",
    ):
        assert name in llmath.__all__


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_every_module_declares_all(module: ModuleType) -> None:
    assert hasattr(module, "__all__"), f"{module.__name__} has no __all__"
    for name in module.__all__:
        assert hasattr(module, name), f"{module.__name__}.__all__ lists missing {name}"


@pytest.mark.parametrize(
    "package", ["llmath.attention", "llmath.linalg", "llmath.calculus", "llmath.probability"]
)
def test_every_subpackage_name_is_exported_at_top_level(package: str) -> None:
    missing = set(importlib.import_module(package).__all__) - set(llmath.__all__)
    assert not missing, f"{package} exports {sorted(missing)} but llmath does not"


def test_top_level_names_are_the_module_objects() -> None:
    for name, obj in PUBLIC:
        home = importlib.import_module(obj.__module__)
        assert getattr(home, name) is obj
        assert name in home.__all__, f"{name} is exported but not in {obj.__module__}.__all__"


@pytest.mark.parametrize(("name", "func"), PUBLIC, ids=[n for n, _ in PUBLIC])
def test_docstring_follows_the_guide(name: str, func: object) -> None:
    doc = inspect.getdoc(func) or ""
    for section in ("Args:", "Returns:", "Raises:", "Examples:"):
        assert section in doc, f"{name}: docstring lacks {section}"
    assert ">>>" in doc, f"{name}: no doctest example"
    source = inspect.getsource(func)  # type: ignore[arg-type]
    if "\\" in doc:
        assert re.search(r'^\s*r"""', source, flags=re.MULTILINE), (
            f"{name}: LaTeX docstring must be r-string"
        )
    sig = inspect.signature(func)  # type: ignore[arg-type]
    for param in sig.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            continue
        assert f"{param.name}:" in doc or f"{param.name} " in doc, (
            f"{name}: argument {param.name} undocumented"
        )


def test_shape_error_is_a_value_error() -> None:
    assert issubclass(llmath.ShapeError, ValueError)
    with pytest.raises(ValueError, match=r"q must have shape \(\.\.\., T, dk\)"):
        llmath.scaled_dot_product_attention([1.0], [[1.0]], [[1.0]])


def test_every_returns_section_is_one_item() -> None:
    """A Returns entry whose second line is not indented renders as a second, bogus return row."""
    import griffe

    package = griffe.load("llmath", search_paths=[str(Path(llmath.__file__).parents[1])])
    split: list[str] = []

    def walk(obj: griffe.Object) -> None:
        for member in obj.members.values():
            if member.is_alias:
                continue
            if member.is_module or member.is_class:
                walk(member)  # type: ignore[arg-type]
            if member.is_function and member.docstring:
                for section in member.docstring.parse("google"):
                    if section.kind.value == "returns" and len(section.value) != 1:
                        split.append(member.path)

    walk(package)
    assert not split, f"indent the continuation lines of Returns in {split}"
