"""Code the book runs at build time to print its numbers, tables and figures.

Pages import these modules inside markdown-exec blocks; tests/docs imports the same modules, so
every example is also a test (the FastAPI docs_src pattern). Reusable mathematics lives in
llmath, never here: these modules only choose inputs and format results.
"""
