"""Worked examples for Part 3: probability and information theory."""
