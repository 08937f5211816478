"""Examples for Part 1: linear algebra and attention."""
