"""Published numbers that Part 1 quotes, in one place, each with its source.

Everything a chapter derives from them (parameter counts, FLOPs, ratios) is computed.
The sources are listed in full under "Part 1" in docs/bibliography.md.
"""

from __future__ import annotations

import math

# GPT-2 small. Radford et al. (2019), "Language Models are Unsupervised Multitask Learners":
# Table 2 (smallest model: 12 layers, d_model = 768) and section 2.3 (vocabulary of 50,257
# tokens, context of 1024 tokens). Heads and MLP width follow GPT-1, Radford et al.
# (2018), "Improving Language Understanding by Generative Pre-Training", section 4.1
# (12 attention heads, 3072-dimensional inner states).
GPT2_D = 768
GPT2_LAYERS = 12
GPT2_HEADS = 12
GPT2_F = 3072
GPT2_VOCAB = 50_257
GPT2_CONTEXT = 1024

# LLaMA-7B. Touvron et al. (2023), "LLaMA: Open and Efficient Foundation Language Models":
# Table 2 (dimension 4096, 32 heads, 32 layers) and section 2.2 (SwiGLU with hidden width
# 2/3 * 4d instead of 4d); the released model rounds that up to a multiple of 256.
LLAMA7B_D = 4096
LLAMA7B_LAYERS = 32
LLAMA7B_F = 256 * math.ceil(2 * 4 * LLAMA7B_D / 3 / 256)  # = 11008

# Vaswani et al. (2017), "Attention Is All You Need", section 3.2.2: the base model's
# d_model = 512, h = 8 heads, d_k = d_v = d_model / h = 64.
TRANSFORMER_BASE_D = 512
TRANSFORMER_BASE_HEADS = 8
