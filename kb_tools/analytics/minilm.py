"""all-MiniLM-L6-v2 sentence vectors in numpy: the report's query clustering without torch.

The report groups failing English queries by all-MiniLM-L6-v2 vectors (`clusters.py`, measured
on Bitext). Through sentence-transformers, the first report on a store paid about 10 CPU
seconds to import torch and load the model before embedding a few dozen queries; this is the
same network (BERT, 6 layers, 384 dimensions, mean pooling, L2-normalised) read from the same
packaged files (`model.safetensors`, `tokenizer.json`) and run in numpy: a fraction of a second
to load. Its vectors match sentence-transformers' to float32 rounding
(tests/test_analytics_store.py compares them), so the store's vector cache serves both.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 64


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0, dtype=np.float32)))


class NumpyMiniLM:
    """A sentence-transformers BERT folder with mean pooling and normalisation
    (all-MiniLM-L6-v2's modules), run in numpy. `encode(texts)` -> (n, 384) float32."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        if (config.get("model_type") != "bert" or config.get("hidden_act") != "gelu"
                or config.get("position_embedding_type", "absolute") != "absolute"
                or kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens")):
            raise ValueError(f"{folder} is not a mean-pooled, normalised BERT model")
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        # Linear weights transposed once, contiguous: x @ W is one BLAS call per layer.
        self.w: dict[str, Any] = {k: np.ascontiguousarray(v.T) if k.endswith("dense.weight") or ".self." in k
                                  and k.endswith(".weight") else v
                                  for k, v in load_file(str(folder / "model.safetensors")).items()}
        max_len = 512
        bert_config = folder / "sentence_bert_config.json"
        if bert_config.exists():
            max_len = int(json.loads(bert_config.read_text(encoding="utf-8")).get("max_seq_length", max_len))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))
        self.dimension = int(config["hidden_size"])
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        weight = self.w[name + ".weight"]
        y = x.reshape(-1, x.shape[-1]) @ weight
        y += self.w[name + ".bias"]
        return y.reshape(*x.shape[:-1], weight.shape[1])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, n, length = self.w, ids.shape[0], ids.shape[1]
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        heads, size = self.heads, x.shape[-1] // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(n, length, heads, size).transpose(0, 2, 1, 3)

            q = split(self._linear(x, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * size)
            x = _layer_norm(self._linear(ctx, p + "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                            self.eps)
            h = _gelu(self._linear(x, p + "intermediate.dense"))
            x = _layer_norm(self._linear(h, p + "output.dense") + x, w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"], self.eps)
        m = mask[:, :, None].astype(np.float32)
        pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        # Similar lengths together: less padding to push through the network.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            part = [texts[i] for i in order[start:start + BATCH]]
            with self._lock:
                enc = self.tokenizer.encode_batch(part)
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            out.append(self._forward(ids, mask).astype(np.float32))
        result = np.empty((len(texts), self.dimension), dtype=np.float32)
        if out:
            result[order] = np.vstack(out)
        return result
