"""The execution cache's pure parts: what a page's code depends on, and notebook outputs that
do not depend on timing. (Replay against a real build is tests/book/test_reproducible.py.)"""

from __future__ import annotations

from tests.docs.bookfiles import ROOT, execcache


def _rel(paths: set) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in paths}


def test_a_name_resolves_to_the_module_that_defines_it() -> None:
    code = "import llmath\nx = llmath.softmax([1.0, 2.0])\n"
    deps = _rel(execcache.dependencies(code))
    assert "src/llmath/attention/softmax.py" in deps
    assert "src/llmath/__init__.py" not in deps  # re-exports only: not a dependency
    assert "src/llmath/probability/sampling.py" not in deps


def test_imports_are_followed_through_the_modules_they_reach() -> None:
    code = "from llmath.calculus.block import block_forward\n"
    deps = _rel(execcache.dependencies(code))
    assert {"src/llmath/calculus/block.py", "src/llmath/calculus/layernorm.py"} <= deps


def test_unparsable_code_depends_on_everything() -> None:
    assert execcache.dependencies(None) == execcache.all_tracked_files()


def test_prose_is_not_part_of_a_pages_key(tmp_path) -> None:
    block = '```python exec="on" session="s"\nimport llmath\nprint(llmath.softmax([0.0]))\n```\n'
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text("# A\n\nSome prose.\n\n" + block, encoding="utf-8")
    b.write_text("# A\n\nOther prose, longer.\n\n" + block, encoding="utf-8")
    assert execcache.PagePlan.of(a).exec_key == execcache.PagePlan.of(b).exec_key
    b.write_text("# A\n\n" + block.replace("[0.0]", "[1.0]"), encoding="utf-8")
    assert execcache.PagePlan.of(a).exec_key != execcache.PagePlan.of(b).exec_key


def test_fences_inside_admonitions_are_found() -> None:
    text = '!!! note\n    ```python exec="on" session="s"\n    print(1)\n    ```\n'
    (fence,) = execcache.exec_code(text)
    assert fence.body == "print(1)" and fence.attrs["session"] == "s"


def test_stream_outputs_are_joined_whatever_the_kernel_flushed() -> None:
    chunked = [
        {"output_type": "stream", "name": "stdout", "text": "a"},
        {"output_type": "stream", "name": "stdout", "text": ["b\n", "c"]},
        {"output_type": "display_data", "data": {}},
        {"output_type": "stream", "name": "stdout", "text": "d"},
    ]
    merged = execcache._coalesce_streams(chunked)
    assert [o.get("text") for o in merged] == ["ab\nc", None, "d"]


def test_book_files_an_example_reads_are_part_of_its_key() -> None:
    gpt2 = execcache.ROOT / "docs" / "examples" / "tokenization" / "gpt2.py"
    read = execcache.reads(gpt2)
    assert execcache.DOCS / "tokenization" / "gpt2.md" in read
    assert execcache.DOCS / "index.md" in read
    deps = execcache.dependencies("from examples.tokenization import gpt2")
    assert gpt2 in deps
