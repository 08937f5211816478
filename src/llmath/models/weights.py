r"""Load a pretrained model's weights from a safetensors file into numpy arrays.

A safetensors file is a small JSON header (each tensor's name, dtype, shape and byte range)
followed by the raw bytes: reading it executes no code, unlike a pickled PyTorch checkpoint.
The `safetensors` package's numpy loader reads it without torch; it is an optional dependency
(`pip install llmath[models]`), imported only when a file is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llmath._checks import check_bool

__all__ = ["load_safetensors"]

Array = NDArray[Any]


def _path(path: object) -> Path:
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise ValueError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"path must name an existing safetensors file; got {str(p)!r:.80}")
    return p


def _name_map(name_map: object) -> dict[str, str]:
    if name_map is None:
        return {}
    if not isinstance(name_map, Mapping):
        raise ValueError(f"name_map must be a mapping of str to str; got {type(name_map).__name__}")
    bad = [(k, v) for k, v in name_map.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise ValueError(f"name_map must map str to str; got the entry {bad[0]!r:.60}")
    return dict(name_map)


# --8<-- [start:load]
def load_safetensors(
    path: str | os.PathLike[str],
    *,
    name_map: Mapping[str, str] | None = None,
    float64: bool = True,
) -> dict[str, Array]:
    # --8<-- [end:load]
    r"""Read every tensor of a safetensors file as a numpy array, optionally renamed.

    Floating-point tensors are converted to float64 by default (the book's precision: the
    stored float32 values are exact in float64, so nothing is lost); integer tensors (such as
    BERT's `position_ids` buffer) keep their dtype.

    Args:
        path: the `.safetensors` file.
        name_map: stored name to new name; a stored name absent from it keeps its name.
            Two tensors may not end up with the same name.
        float64: convert floating-point tensors to float64 (default); `False` keeps the
            stored dtype (float32, float16, bfloat16 as stored by the loader).

    Returns:
        A dict of name to array, sorted by name.

    Raises:
        ValueError: if the file does not exist, `name_map` is not a mapping of strings, a name
            in it is not in the file, or two tensors would get the same name.
        ImportError: if the `safetensors` package is not installed
            (`pip install llmath[models]`).

    Examples:
        >>> import tempfile, numpy as np
        >>> from safetensors.numpy import save_file
        >>> f = tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False).name
        >>> save_file({"w": np.ones((2, 3), np.float32)}, f)
        >>> w = load_safetensors(f, name_map={"w": "layer.w"})["layer.w"]
        >>> w.shape, w.dtype
        ((2, 3), dtype('float64'))
    """
    p = _path(path)
    renames = _name_map(name_map)
    check_bool(float64, name="float64")
    try:
        from safetensors.numpy import load_file
    except ImportError:  # pragma: no cover - the test environment has it
        raise ImportError(
            "load_safetensors needs the safetensors package: pip install llmath[models]"
        ) from None
    try:
        raw = load_file(str(p))
    except Exception as err:  # a truncated file, a bad header
        raise ValueError(f"path {str(p)!r:.80} is not a readable safetensors file: {err}") from None
    missing = sorted(set(renames) - set(raw))
    if missing:
        raise ValueError(f"name_map names {missing[0]!r}, which is not in the file")
    out: dict[str, Array] = {}
    for name in sorted(raw):
        new = renames.get(name, name)
        if new in out:
            raise ValueError(f"name_map gives two tensors the name {new!r}")
        a = raw[name]
        out[new] = a.astype(np.float64) if float64 and a.dtype.kind == "f" else a
    return out
