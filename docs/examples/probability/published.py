"""Published perplexities: facts quoted from papers, kept in this one place with their sources.

Every number here is copied from the table named in `source`; everything the book derives from
them (losses in nats and bits) is computed. A perplexity means nothing without its dataset, its
tokenisation and the unit the loss was averaged over, so each entry records all three.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from numpy.typing import NDArray

from llmath.probability.perplexity import nats_to_bits


class Published(TypedDict):
    model: str
    dataset: str
    value: float
    setting: str
    tokenisation: str
    source: str


RADFORD_2019 = (
    "Radford, Wu, Child, Luan, Amodei and Sutskever (2019), "
    "“Language Models are Unsupervised Multitask Learners”, OpenAI technical report"
)
BROWN_2020 = (
    "Brown et al. (2020), “Language Models are Few-Shot Learners”, NeurIPS 33 (arXiv:2005.14165)"
)

PERPLEXITIES: dict[str, Published] = {
    "gpt2-wikitext103": {
        "model": "GPT-2 1.5B (1542M parameters)",
        "dataset": "WikiText-103 (test)",
        "value": 17.48,
        "setting": "zero-shot",
        "tokenisation": "scored with GPT-2's byte-level BPE (n_V = 50,257); the total "
        "log-probability is divided by the number of the dataset's canonical (word-level) "
        "tokens, after invertible de-tokenisers (Sect. 3.1)",
        "source": f"{RADFORD_2019}, Table 3",
    },
    "gpt2-wikitext2": {
        "model": "GPT-2 1.5B (1542M parameters)",
        "dataset": "WikiText-2 (test)",
        "value": 18.34,
        "setting": "zero-shot",
        "tokenisation": "as for WikiText-103: byte-level BPE, normalised per canonical "
        "word-level token (Sect. 3.1)",
        "source": f"{RADFORD_2019}, Table 3",
    },
    "gpt3-ptb": {
        "model": "GPT-3 175B",
        "dataset": "Penn Treebank (test)",
        "value": 20.50,
        "setting": "zero-shot",
        "tokenisation": "scored with GPT-3's byte-level BPE (the GPT-2 tokeniser); "
        "compared in the table with word-level results (state of the art 35.8)",
        "source": f"{BROWN_2020}, Table 3.1 and Sect. 3.1.1",
    },
}


def derived() -> NDArray[np.float64]:
    """Rows: the entries above. Columns: reported PPL, loss ln PPL (nats/unit), bits/unit."""
    rows = []
    for entry in PERPLEXITIES.values():
        nats = float(np.log(entry["value"]))
        rows.append([entry["value"], nats, float(nats_to_bits(nats))])
    return np.array(rows)


def tables() -> dict[str, NDArray[np.float64]]:
    return {"perplexity/published": derived()}
