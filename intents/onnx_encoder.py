"""all-MiniLM-L6-v2 as an ONNX graph: the serving encoder (no PyTorch at run time).

The transformer plus sentence-transformers' mean pooling and L2 normalisation are exported once
with ``torch.onnx.export``, fused by onnxruntime's BERT optimiser (one ``Attention`` operator a
layer instead of ~40 small ones: half the time per message at ~15 tokens) and, for the int8
variant, quantised with
``onnxruntime.quantization.quantize_dynamic`` (one weight scale per output channel: embeddings
stay within cosine 0.99 of float32, against 0.97 with one scale per matrix); tokenisation uses
the model's own ``tokenizer.json``. The exported file is cached on disk.

Threads: one :meth:`OnnxEncoder.encode` call computes on ``THREADS`` (2) threads, however many
cores the machine has (2 is the core count of the machine the encoder was tuned and measured
on, ``bench/README.md``), unless the process chose its own number with :func:`use_threads`
(``omnibot serve`` runs one answer process a core, each encoding on one thread).
"""

from __future__ import annotations

import logging
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from intents.encoder import model_dir
from intents.onnx_sessions import SharedGraph, acquire, release

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
CHUNK = 8  # texts per ONNX run: length-sorted and small, so little of a run is padding
# int8 graphs scale activations by each run's own range, so a text that shares a run could
# shift another's embedding: quantised graphs embed every text on its own (as fast here).
QUANTIZED_CHUNK = 1
THREADS = 2  # threads one encode() computes on, in either path, unless use_threads() says
DIMENSIONS = 384
OPSET = 17
EXPORT_VERSION = 3  # part of the cached graph's name: a new recipe never reuses an old file


def export_onnx(target: Path, quantize: bool = True, transformer: Any = None) -> Path:
    """Export MiniLM with pooling and normalisation to ``target`` (int8 when ``quantize``).

    ``transformer``: the weights to export (a fine-tuned copy of the model, see
    :mod:`intents.tuning`); None exports the bundled model.
    """
    import torch
    from transformers import AutoModel

    tuned = transformer
    # The bare transformer (what sentence-transformers wraps): quicker to load than the pipeline.
    # Eager attention, because the optimiser's fusion recognises its pattern, not SDPA's: a tuned
    # model (trained with whichever attention) lends its weights to an eager one.
    transformer = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()
    if tuned is not None:
        transformer.load_state_dict(tuned.state_dict())

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_suffix(".fp32.onnx")
    sample = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():  # the tracer's notes on shapes it treats as constants
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(),
            (sample, sample),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    logging.disable(logging.WARNING)  # optimiser and quantiser log every step on the root logger
    try:
        _fuse_and_quantize(fp32, target, transformer.config, quantize)
    finally:
        logging.disable(logging.NOTSET)
        fp32.unlink()
    return target


def _fuse_and_quantize(source: Path, target: Path, config: Any, quantize: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(source),
        model_type="bert",
        opt_level=1,
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
    )
    if not quantize:
        fused.save_model_to_file(str(target))
        return
    staged = target.with_suffix(".fused.onnx")
    fused.save_model_to_file(str(staged))
    try:
        # Fused operators are outside ONNX's shape inference: their outputs are float.
        quantize_dynamic(
            str(staged),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        staged.unlink()


_threads = {"per_encoder": THREADS}


def use_threads(count: int) -> None:
    """Make encoders created from now on in this process compute on ``count`` threads (a
    serving process's share of the cores; graphs already loaded keep their sessions)."""
    if count < 1:
        raise ValueError(f"an encoder needs at least one thread, not {count}")
    _threads["per_encoder"] = count


class OnnxEncoder:
    """Embeds texts with an exported MiniLM graph on onnxruntime's CPU provider.

    Two sessions serve the graph: a lone text runs on one whose operators use the encoder's
    threads (``THREADS``, 2, unless :func:`use_threads` said otherwise) as intra-op threads,
    the calling thread among them (lowest latency); several texts run as length-sorted chunks
    on a single-threaded session, as many chunks at a time on a pool of as many threads (most
    throughput). Encoders of one graph in a process share the
    sessions and a memo of the rows of texts run alone (:mod:`intents.onnx_sessions`): a text
    embedded again, e.g. by the help-centre answerer right after the classifier, is not run
    again. :meth:`close` stops the pool and gives the sessions back.
    """

    def __init__(self, path: Path, chunk: int = CHUNK) -> None:
        self._chunk = chunk
        self._threads = _threads["per_encoder"]
        self._graph: SharedGraph | None = acquire(
            path, self._threads, model_dir() / "tokenizer.json", MAX_TOKENS
        )
        self._tokenizer = self._graph.tokenizer
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="onnx")
        self._closing = threading.Lock()

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Embed ``texts`` (unit-length rows, in the given order).

        Several texts are cut into length-sorted chunks run on the pool's threads at once
        (onnxruntime releases the GIL), each chunk on one thread.
        """
        graph = self._graph
        if graph is None:
            raise RuntimeError("the ONNX encoder is closed")
        if len(texts) == 1 or self._chunk == 1:
            return self._alone(graph, texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        chunks = [order[start : start + self._chunk] for start in range(0, len(order), self._chunk)]
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        results = self._pool.map(
            lambda chunk: self._run(graph.throughput, [texts[i] for i in chunk]), chunks
        )
        for chunk, rows in zip(chunks, results, strict=True):
            out[chunk] = rows
        return out

    def close(self) -> None:
        """Stop the chunk threads and give the sessions back (the last encoder of the graph
        frees them, with their onnxruntime threads).

        Idempotent. Chunks already running finish first; a later :meth:`encode` raises.
        """
        with self._closing:
            graph, self._graph = self._graph, None
        self._pool.shutdown(wait=True, cancel_futures=True)
        if graph is not None:
            release(graph)

    def _alone(self, graph: SharedGraph, texts: list[str]) -> NDArray[np.float32]:
        """Each distinct text run on its own, or its remembered row: the one-text session
        for a single run, the pool on the throughput session for several."""
        rows = {text: graph.memo.get(text) for text in dict.fromkeys(texts)}
        missing = [text for text, row in rows.items() if row is None]
        if len(missing) == 1:
            computed = list(self._run(graph.latency, missing))
        else:
            computed = self._one_by_one(graph.throughput, missing)
        for text, row in zip(missing, computed, strict=True):
            graph.memo.put(text, row)
            rows[text] = row
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = rows[text]
        return out

    def _one_by_one(self, session: Any, texts: list[str]) -> list[NDArray[np.float32]]:
        """Each text run on its own on ``session``, the texts dealt to the pool's threads in
        one task per thread (a task per text cost more in hand-offs between threads than in the
        runs' own Python; with one thread, on the calling thread), tokenised together
        beforehand."""
        inputs = [_unpadded(e.ids, e.attention_mask) for e in self._tokenizer.encode_batch(texts)]
        # longest first, dealt in turn: the threads get about the same number of tokens
        order = sorted(range(len(texts)), key=lambda i: -inputs[i].shape[1])
        groups = [order[start :: self._threads] for start in range(min(self._threads, len(texts)))]
        out: list[NDArray[np.float32]] = [np.empty(0, dtype=np.float32)] * len(texts)

        def run(group: list[int]) -> list[NDArray[np.float32]]:
            return [_feed(session, inputs[i], np.ones_like(inputs[i]))[0] for i in group]

        results = [run(groups[0])] if len(groups) == 1 else self._pool.map(run, groups)
        for group, rows in zip(groups, results, strict=True):
            for i, row in zip(group, rows, strict=True):
                out[i] = row
        return out

    def _run(self, session: Any, texts: list[str]) -> NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return _feed(session, ids, mask)


def _unpadded(ids: list[int], mask: list[int]) -> NDArray[np.int64]:
    """One text's token ids without the padding of the batch it was tokenised in: exactly
    what tokenising it alone gives (one row)."""
    return np.array([ids[: sum(mask)]], dtype=np.int64)


def _feed(session: Any, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    """The graph's embeddings of token rows ``ids`` (``mask``: 1 for a token, 0 for padding)."""
    result = session.run(None, {"input_ids": ids, "attention_mask": mask})
    return np.asarray(result[0], dtype=np.float32)
