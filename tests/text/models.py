"""A tiny static sentence-embedding model the tests build (model2vec layout), so the loading
code for an operator's multilingual model is tested without downloading anything."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def tiny_model(folder: Path) -> Path:
    """A two-language static model: each word and its translation share one vector."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    pairs = [
        ("river", "fleuve"),
        ("flood", "crue"),
        ("families", "familles"),
        ("market", "marché"),
        ("prices", "prix"),
        ("weather", "météo"),
    ]
    vocab = {"[UNK]": 0}
    for number, (en, fr) in enumerate(pairs, 1):
        vocab[en] = 2 * number - 1
        vocab[fr] = 2 * number
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()  # type: ignore[assignment]
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    rng = np.random.default_rng(0)
    base = rng.normal(size=(len(pairs), 16)).astype(np.float32)
    rows = [np.zeros(16, dtype=np.float32)]
    for vec in base:
        rows += [vec, vec + rng.normal(scale=0.05, size=16).astype(np.float32)]
    save_file({"embeddings": np.stack(rows)}, str(folder / "model.safetensors"))
    return folder
