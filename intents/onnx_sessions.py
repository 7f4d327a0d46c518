"""One set of onnxruntime sessions per exported graph in a process, shared by its encoders,
with a memo of the embeddings it computed for texts run on their own.

A serving process used to hold two copies of the same graph: the classifier's encoder and the
help-centre answerer's (``intents.knowledge``), each with a latency and a throughput session.
The answerer then embedded every question the classifier had embedded a moment before (the
reader asks the articles after classifying: ``intents.reading``), a third of the answer
process's samples in a profile of ``bench.e2e --split`` (``bench/README.md``). Sharing the
sessions keeps one copy of the weights, and the memo answers the second embedding of a text.

The memo holds only rows computed for a text alone in its run: such a row is the same, to the
bit, whichever session computed it or whatever ran beside it (checked in
``tests/intents/test_onnx_sessions.py``), so a remembered row is exactly what running the text
again would give. The memo is sized for the answers in flight (a text embedded twice within
one message's reading), not as a cache of past messages: ``bench.e2e`` cycles through 864
distinct questions, so no question there is found in it from an earlier message.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MEMO_TEXTS = 256  # rows kept per graph (0.4 MB): the answers in flight, with room to spare


class EmbeddingMemo:
    """The most recently computed rows of texts, by text (thread-safe, least recent evicted)."""

    def __init__(self, size: int = MEMO_TEXTS) -> None:
        self._size = size
        self._rows: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> NDArray[np.float32] | None:
        """The row remembered for ``text``, or None."""
        with self._lock:
            row = self._rows.get(text)
            if row is not None:
                self._rows.move_to_end(text)
            return row

    def put(self, text: str, row: NDArray[np.float32]) -> None:
        """Remember ``row`` (copied, read-only) as ``text``'s."""
        kept = np.array(row, dtype=np.float32)
        kept.flags.writeable = False
        with self._lock:
            self._rows[text] = kept
            self._rows.move_to_end(text)
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)


@dataclass
class SharedGraph:
    """A graph's two sessions (latency: ``threads`` intra-op threads; throughput: one),
    tokenizer and memo, and how many encoders use them."""

    latency: Any
    throughput: Any
    tokenizer: Any
    memo: EmbeddingMemo = field(default_factory=EmbeddingMemo)
    users: int = 0


_Key = tuple[Path, int, int]
_graphs: dict[_Key, SharedGraph] = {}
_registry_lock = threading.Lock()


def _key(path: Path) -> _Key:
    """The graph's identity: its file, and that file's version (a graph exported again at the
    same path is another graph)."""
    stat = path.stat()
    return (path.resolve(), stat.st_mtime_ns, stat.st_size)


def session(path: Path, threads: int) -> Any:
    """An onnxruntime CPU session of ``path`` computing on ``threads`` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle intra-op threads spin by default; between single messages that burnt ~4x the CPU of
    # the work itself (measured: 29.8 -> 7.1 ms of CPU a message at 50 msg/s).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def acquire(path: Path, threads: int, tokenizer_path: Path, max_tokens: int) -> SharedGraph:
    """The process's sessions of the graph at ``path`` (loaded now when no encoder holds
    them), counted as used once more; give them back with :func:`release`."""
    key = _key(path)
    with _registry_lock:
        graph = _graphs.get(key)
        if graph is None:
            graph = SharedGraph(
                session(path, threads), session(path, 1), _tokenizer(tokenizer_path, max_tokens)
            )
            _graphs[key] = graph
        graph.users += 1
        return graph


def release(graph: SharedGraph) -> None:
    """One user less; after the last one's release the next :func:`acquire` loads the graph
    anew, and the sessions (with their threads) go once no running call holds them."""
    with _registry_lock:
        graph.users -= 1
        if graph.users > 0:
            return
        for key, held in list(_graphs.items()):
            if held is graph:
                del _graphs[key]


def loaded() -> int:
    """How many graphs have sessions in this process (for tests and benches)."""
    with _registry_lock:
        return len(_graphs)


def _tokenizer(path: Path, max_tokens: int) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
    return tokenizer
