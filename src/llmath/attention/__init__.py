"""Part 1b: softmax, scaled dot-product attention and multi-head attention."""

from llmath.attention.attention import AttentionResult, causal_mask, scaled_dot_product_attention
from llmath.attention.multihead import merge_heads, multi_head_attention, split_heads
from llmath.attention.softmax import log_softmax, softmax

__all__ = [
    "AttentionResult",
    "causal_mask",
    "log_softmax",
    "merge_heads",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "softmax",
    "split_heads",
]
