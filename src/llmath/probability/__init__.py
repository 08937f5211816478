"""Part 3: probability, information theory, perplexity and sampling."""

from llmath.probability.distributions import (
    expectation,
    minibatch_mean_variance,
    minibatch_means,
    variance,
)
from llmath.probability.information import (
    check_distribution,
    cross_entropy_dist,
    entropy,
    kl_divergence,
    mutual_information,
)
from llmath.probability.mle import (
    categorical_map,
    categorical_mle,
    gaussian_neg_log_posterior,
    map_linear_regression,
    negative_log_likelihood,
)
from llmath.probability.ngram import (
    NGramModel,
    enumerate_sentences,
    generate_corpus,
)
from llmath.probability.perplexity import (
    bits_per_byte,
    bits_to_nats,
    nats_to_bits,
    perplexity,
    perplexity_from_log_probs,
)
from llmath.probability.sampling import (
    apply_temperature,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)

__all__ = [
    "NGramModel",
    "apply_temperature",
    "bits_per_byte",
    "bits_to_nats",
    "categorical_map",
    "categorical_mle",
    "check_distribution",
    "cross_entropy_dist",
    "entropy",
    "enumerate_sentences",
    "expectation",
    "gaussian_neg_log_posterior",
    "generate_corpus",
    "greedy",
    "kl_divergence",
    "map_linear_regression",
    "minibatch_mean_variance",
    "minibatch_means",
    "mutual_information",
    "nats_to_bits",
    "negative_log_likelihood",
    "perplexity",
    "perplexity_from_log_probs",
    "sample",
    "top_k_filter",
    "top_p_filter",
    "variance",
]
