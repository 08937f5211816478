"""Part 2: derivatives, automatic differentiation and hand-written backward passes."""

from llmath.calculus.activations import (
    gelu,
    gelu_grad,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from llmath.calculus.attention_grad import (
    MHACache,
    linear_backward,
    multi_head_attention_backward,
    multi_head_attention_forward,
    scaled_dot_product_attention_backward,
)
from llmath.calculus.autodiff import (
    OpCount,
    Value,
    count_ops,
    topological_order,
)
from llmath.calculus.block import (
    BlockCache,
    BlockParams,
    block_backward,
    block_forward,
)
from llmath.calculus.cross_entropy import (
    cross_entropy,
    cross_entropy_grad,
)
from llmath.calculus.layernorm import (
    LayerNormCache,
    layer_norm,
    layer_norm_backward,
)
from llmath.calculus.numerical import (
    default_step,
    grad_check,
    numerical_grad,
    numerical_hessian,
    numerical_jacobian,
)
from llmath.calculus.rnn import (
    RNNCache,
    rnn_backward,
    rnn_forward,
)
from llmath.calculus.softmax_grad import (
    softmax_backward,
    softmax_jacobian,
)

__all__ = [
    "BlockCache",
    "BlockParams",
    "LayerNormCache",
    "MHACache",
    "OpCount",
    "RNNCache",
    "Value",
    "block_backward",
    "block_forward",
    "count_ops",
    "cross_entropy",
    "cross_entropy_grad",
    "default_step",
    "gelu",
    "gelu_grad",
    "grad_check",
    "layer_norm",
    "layer_norm_backward",
    "linear_backward",
    "multi_head_attention_backward",
    "multi_head_attention_forward",
    "numerical_grad",
    "numerical_hessian",
    "numerical_jacobian",
    "relu_grad",
    "rnn_backward",
    "rnn_forward",
    "scaled_dot_product_attention_backward",
    "sigmoid",
    "sigmoid_grad",
    "softmax_backward",
    "softmax_jacobian",
    "tanh",
    "tanh_grad",
    "topological_order",
]
