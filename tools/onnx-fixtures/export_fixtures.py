#!/usr/bin/env python3
"""Export the transformer fixtures of crates/xpusim-onnx/tests/data/ with the current
PyTorch ONNX exporter (torch.onnx.export(..., dynamo=True)), then strip their weights.

Made with Python 3.11 on CPU and the PyPI wheels:
    torch 2.15.0 (+cu132 build, no GPU used), transformers 5.25.0, onnxscript 0.7.2,
    onnx 1.23.2 (onnx-ir 1.1.0 came with onnxscript)
    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch transformers onnxscript onnx
    /tmp/venv/bin/python tools/onnx-fixtures/export_fixtures.py crates/xpusim-onnx/tests/data
Two runs give byte-identical files (the weights, the only random part, are stripped).

Models (random weights, seed 0; every parameter gets independent noise so the exporter's
optimizer cannot merge equal initializers, e.g. freshly initialised LayerNorm weights):
  gpt2_medium_prefill.onnx   GPT-2 medium config (24 layers, hidden 1024, 16 heads, vocab
                             50257), transformers' default SDPA attention, prefill at a
                             fixed batch 1 x sequence 128, logits only.
  gpt2_medium_kv.onnx        the same model, one decoding call with a KV cache: inputs
                             input_ids [batch, seq], attention_mask [batch, total],
                             past_{i}_{key,value} [batch, 16, past, 64]; outputs logits and
                             present_{i}_{key,value}. Eager attention (SDPA's is_causal
                             cannot be traced with a symbolic sequence length), dynamic dims.
  llama_gqa_kv.onnx          LlamaConfig: 4 layers, hidden 1024, 16 heads, 4 KV heads (GQA),
                             intermediate 2816 (gated SiLU MLP), RoPE, vocab 32000, untied
                             LM head; KV cache as above, eager attention, dynamic dims.

Stripping (as ../shared/models/README.md describes for the shared models): every
initializer is an external-data tensor (name, dims and data type kept, data_location =
EXTERNAL, location = STRIPPED_WEIGHTS.bin, which is not shipped); node metadata, doc strings
and value_info are dropped. The importer reads only tensor metadata.
"""
import os
import sys

import onnx
import torch
from transformers import DynamicCache, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM


def perturb(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


class Prefill(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        return self.m(input_ids=input_ids, use_cache=False).logits


class Decode(torch.nn.Module):
    """Past keys/values as flat tensors in, presents as flat tensors out."""

    def __init__(self, m, layers):
        super().__init__()
        self.m = m
        self.layers = layers

    def forward(self, input_ids, attention_mask, *past):
        cache = DynamicCache(config=self.m.config)
        for i in range(self.layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        out = self.m(
            input_ids=input_ids,
            attention_mask=attention_mask,
            past_key_values=cache,
            use_cache=True,
        )
        pres = []
        for layer in out.past_key_values.layers[: self.layers]:
            pres += [layer.keys, layer.values]
        return (out.logits, *pres)


def export_decode(model, layers, kv_heads, head_dim, path):
    b, s, p = 2, 1, 16
    ids = torch.zeros(b, s, dtype=torch.long)
    mask = torch.ones(b, p + s, dtype=torch.long)
    past = [torch.randn(b, kv_heads, p, head_dim) for _ in range(2 * layers)]
    names = [f"past_{i}_{kv}" for i in range(layers) for kv in ("key", "value")]
    outs = ["logits"] + [n.replace("past", "present") for n in names]
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    total, plen = torch.export.Dim("total"), torch.export.Dim("past")
    shapes = {
        "input_ids": {0: batch, 1: seq},
        "attention_mask": {0: batch, 1: total},
        "past": tuple({0: batch, 2: plen} for _ in names),
    }
    torch.onnx.export(
        Decode(model, layers).eval(),
        (ids, mask, *past),
        path,
        dynamo=True,
        external_data=True,
        input_names=["input_ids", "attention_mask", *names],
        output_names=outs,
        dynamic_shapes=shapes,
    )


def strip(path):
    m = onnx.load(path, load_external_data=False)
    for t in m.graph.initializer:
        if t.data_location != onnx.TensorProto.EXTERNAL:
            if len(t.raw_data) <= 1024:
                continue
            t.ClearField("raw_data")
            t.data_location = onnx.TensorProto.EXTERNAL
            t.external_data.add(key="location", value="")
        for e in t.external_data:
            if e.key == "location":
                e.value = "STRIPPED_WEIGHTS.bin"
    for n in m.graph.node:
        del n.metadata_props[:]
        n.doc_string = ""
    for v in list(m.graph.input) + list(m.graph.output):
        del v.metadata_props[:]
        v.doc_string = ""
    for t in m.graph.initializer:
        del t.metadata_props[:]
    del m.graph.value_info[:]
    del m.metadata_props[:]
    m.graph.doc_string = ""
    m.doc_string = ""
    data = path + ".data"
    onnx.save(m, path)
    if os.path.exists(data):
        os.remove(data)
    print(f"{path}: {os.path.getsize(path)} bytes, {len(m.graph.node)} nodes")


def main(out):
    os.makedirs(out, exist_ok=True)

    g2 = GPT2Config(n_layer=24, n_embd=1024, n_head=16, n_positions=1024, vocab_size=50257)
    m = perturb(GPT2LMHeadModel(g2))
    path = os.path.join(out, "gpt2_medium_prefill.onnx")
    torch.onnx.export(
        Prefill(m).eval(),
        (torch.zeros(1, 128, dtype=torch.long),),
        path,
        dynamo=True,
        external_data=True,
        input_names=["input_ids"],
        output_names=["logits"],
    )
    strip(path)

    g2e = GPT2Config(n_layer=24, n_embd=1024, n_head=16, n_positions=1024, vocab_size=50257)
    g2e._attn_implementation = "eager"
    m = perturb(GPT2LMHeadModel(g2e))
    path = os.path.join(out, "gpt2_medium_kv.onnx")
    export_decode(m, 24, 16, 64, path)
    strip(path)

    lc = LlamaConfig(
        num_hidden_layers=4,
        hidden_size=1024,
        num_attention_heads=16,
        num_key_value_heads=4,
        intermediate_size=2816,
        vocab_size=32000,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
    )
    lc._attn_implementation = "eager"
    m = perturb(LlamaForCausalLM(lc))
    path = os.path.join(out, "llama_gqa_kv.onnx")
    export_decode(m, 4, 4, 64, path)
    strip(path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crates/xpusim-onnx/tests/data")
