# %% [markdown]
# # Part 1 walkthrough
# Softmax $\operatorname{softmax}(z)_i = e^{z_i} / \sum_j e^{z_j}$.

# %%
import llmath

llmath.softmax([1.0, 2.0, 3.0])
