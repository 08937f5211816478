"""Examples for Part 2: calculus and backpropagation."""
