"""Part 8: real models from the book's functions: a BERT-style sentence encoder and its weights loader.

Each module's public names are re-exported here and from `llmath`.
"""

from llmath.models.bert import (
    BertConfig,
    BertParams,
    bert_attention,
    bert_config_from_hf,
    bert_encoder,
    bert_params_from_state,
    mean_pool,
)
from llmath.models.weights import load_safetensors

__all__ = [
    "BertConfig",
    "BertParams",
    "bert_attention",
    "bert_config_from_hf",
    "bert_encoder",
    "bert_params_from_state",
    "load_safetensors",
    "mean_pool",
]
