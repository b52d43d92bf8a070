//! The training workload: every zoo model's `Phase::Train` forward and the backward pass
//! `xpusim_ir::autodiff` derives from it.

use std::collections::BTreeMap;

use xpusim_ir::autodiff::backward;
use xpusim_ir::{Graph, OpKind, OpRole, Phase, Role};
use xpusim_models::{build, catalog, find, Workload};

/// A small training micro-batch for model `m` (images at their native size).
fn train(name: &str, batch: u64, seq: u64) -> Graph {
    build(name, &Workload::new(Phase::Train, batch, seq, 0))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn contraction(op: &xpusim_ir::Op) -> bool {
    matches!(
        op.kind,
        OpKind::Matmul(_)
            | OpKind::Conv(_)
            | OpKind::Recurrent(_)
            | OpKind::Attention(_)
            | OpKind::AttentionGrad(_)
    )
}

/// FLOPs of the contractions of `g` (2 per MAC), all repeats.
fn contraction_flops(g: &Graph) -> u64 {
    g.ops
        .iter()
        .filter(|o| contraction(o))
        .map(|o| 2 * o.macs() * o.repeat)
        .sum()
}

/// The forward op a backward op was derived from (`x.dgrad`, `x.wgrad`, `x.wgrad.bias`,
/// `x.grad`, `x.dgrad_rhs` → `x`).
fn forward_name(b: &str) -> &str {
    for s in [".dgrad_rhs", ".dgrad", ".grad"] {
        if let Some(f) = b.strip_suffix(s) {
            return f;
        }
    }
    match b.rfind(".wgrad") {
        Some(i) => &b[..i],
        None => b,
    }
}

#[test]
fn every_model_lists_and_builds_the_train_phase() {
    for m in catalog() {
        assert_eq!(m.phases.last(), Some(&Phase::Train), "{}", m.name);
        assert_ne!(m.phases[0], Phase::Train, "{}: default phase", m.name);
        let seq = m.default_seq_len.min(128);
        let g = train(m.name, 2, seq);
        assert_eq!(g.phase, Phase::Train, "{}", m.name);
        let expect_tps = match m.era {
            "cnn" | "diffusion" => 1,
            "vision-transformer" => 197,
            "rnn" if m.name == "deepspeech2" => seq,
            _ => seq,
        };
        assert_eq!(g.tokens_per_sample, expect_tps, "{}", m.name);
        // It ends in the loss; no KV cache is read or appended.
        let last = g.ops.last().unwrap();
        assert!(
            matches!(last.kind, OpKind::Loss { .. }),
            "{}: ends with {}",
            m.name,
            last.name
        );
        for op in &g.ops {
            assert!(
                op.operands.iter().all(|o| o.role != Role::KvCache),
                "{}: {} reads a KV cache",
                m.name,
                op.name
            );
            assert!(
                !matches!(op.role, OpRole::KvAppend(_)),
                "{}: {}",
                m.name,
                op.name
            );
        }
    }
    // Still the default phase of the resolver's requests.
    assert_eq!(find("llama-2-7b").unwrap().phases[0], Phase::Prefill);
}

#[test]
fn bert_pretrains_with_the_masked_lm_head_over_every_token() {
    let (b, s) = (2, 128);
    let t = train("bert-large", b, s);
    let inf = build("bert-large", &Workload::new(Phase::Inference, b, s, 0)).unwrap();
    // The MLM decoder: tied to the word embeddings, vocabulary-parallel, every position
    // (DeepLearningExamples' BertForPreTraining returns [batch, seq, vocab] scores).
    let dec = t.ops.iter().find(|o| o.role == OpRole::LmHead).unwrap();
    let OpKind::Matmul(m) = dec.kind else {
        panic!("{}", dec.name)
    };
    assert_eq!((m.m, m.k, m.n), (b * s, 1024, 30_522));
    assert!(dec.operands.iter().any(|o| o.tensor == "embed.tokens"));
    assert!(inf.ops.iter().all(|o| o.role != OpRole::LmHead));
    match t.ops.last().unwrap().kind {
        OpKind::Loss { rows, cols, .. } => assert_eq!((rows, cols), (b * s, 30_522)),
        _ => panic!(),
    }
    // The head adds its transform (h x h) and decoder (h x V) MACs over every token to the
    // encoder's, and only the transform and the decoder bias as parameters (tied decoder).
    let head_macs = b * s * (1024 * 1024 + 1024 * 30_522);
    assert_eq!(
        contraction_flops(&t),
        contraction_flops(&inf) + 2 * head_macs
    );
    assert_eq!(
        t.totals().params,
        inf.totals().params + 1024 * 1024 + 1024 + 2 * 1024 + 30_522
    );
    backward(&t).expect("the pre-training graph differentiates");
}

#[test]
fn a_decoder_trains_on_every_token() {
    let (b, s) = (2, 256);
    let t = train("llama-2-7b", b, s);
    let p = build("llama-2-7b", &Workload::new(Phase::Prefill, b, s, 0)).unwrap();
    let lm = |g: &Graph| match g
        .ops
        .iter()
        .find(|o| o.role == OpRole::LmHead)
        .unwrap()
        .kind
    {
        OpKind::Matmul(m) => m.m,
        _ => panic!(),
    };
    assert_eq!(lm(&t), b * s);
    assert_eq!(lm(&p), b);
    assert!(t.ops.iter().all(|o| !o.name.ends_with("kv_append")));
    let attn = t
        .ops
        .iter()
        .find(|o| matches!(o.kind, OpKind::Attention(_)))
        .unwrap();
    let OpKind::Attention(a) = attn.kind else {
        panic!()
    };
    assert!(a.causal && a.q_len == s && a.kv_len == s);
    assert!(attn.operands[1..3].iter().all(|o| o.role == Role::Input));
    // Cross-entropy over every token's logits, vocabulary-parallel.
    let loss = t.ops.last().unwrap();
    assert_eq!(loss.role, OpRole::Sliced(xpusim_ir::Block::Vocab));
    match loss.kind {
        OpKind::Loss { rows, cols, .. } => assert_eq!((rows, cols), (b * s, 32_000)),
        _ => panic!(),
    }
    // 4 FLOPs per logit plus 3 per row (max, subtract, exp, sum; log, gather, mean).
    assert_eq!(loss.flops(), 4 * b * s * 32_000 + 3 * b * s);
}

/// Backward FLOPs over the zoo are twice the forward's contraction FLOPs, within a band
/// that the model classes explain: FlashAttention-2's backward is 2.5× its forward, the
/// first layer of an image model computes no input gradient (its input is data), and the
/// vector work (norm, activation and loss gradients) adds a few per cent.
#[test]
fn backward_flops_are_twice_the_forward_contractions_over_the_zoo() {
    for m in catalog() {
        let seq = m.default_seq_len.min(256);
        let g = train(m.name, 2, seq);
        let b = backward(&g).unwrap_or_else(|e| panic!("{}: {e}", m.name));
        let fwd = contraction_flops(&g) as f64;
        let ratio = b.totals().flops as f64 / fwd;
        let contractions = contraction_flops(&b) as f64 / fwd;
        println!("{:<14} backward/forward contractions {ratio:.3} (contractions alone {contractions:.3})", m.name);
        // 1.9: ResNet-18's stem convolution (6.5 % of its MACs) has no input gradient;
        // 2.2: MobileNetV2's BatchNorm gradients (15 FLOPs per element) beside its small
        // depthwise MACs, the SD UNet's attention over 4096 positions.
        assert!(
            (1.9..2.2).contains(&ratio),
            "{}: backward FLOPs {ratio:.3}× the forward's contraction FLOPs",
            m.name
        );
        // Contractions alone: exactly 2× but for attention (2.5×) and the first layer.
        assert!(
            (1.9..2.1).contains(&contractions),
            "{}: {contractions:.3}",
            m.name
        );
        // Language models at 256 tokens: attention is a small share, vector work smaller.
        if matches!(m.era, "decoder" | "moe") {
            assert!((2.0..2.02).contains(&ratio), "{}: {ratio:.4}", m.name);
        }
        // Every backward op keeps its forward op's layer and repeat.
        let fwd_ops: BTreeMap<&str, &xpusim_ir::Op> =
            g.ops.iter().map(|o| (o.name.as_str(), o)).collect();
        for op in &b.ops {
            let f = fwd_ops
                .get(forward_name(&op.name))
                .unwrap_or_else(|| panic!("{}: {} has no forward op", m.name, op.name));
            assert_eq!(op.layer, f.layer, "{}: {}", m.name, op.name);
            assert_eq!(op.repeat, f.repeat, "{}: {}", m.name, op.name);
        }
        // ... and every forward op with a layer has backward ops in it.
        for f in g.ops.iter().filter(|o| o.layer.is_some()) {
            assert!(
                b.ops
                    .iter()
                    .any(|o| forward_name(&o.name) == f.name && o.layer == f.layer),
                "{}: {} has no backward op",
                m.name,
                f.name
            );
        }
        assert_eq!(b.layer_count(), g.layer_count(), "{}", m.name);
    }
}

/// Kaplan et al. 2020 (§2.1, Table 1): training costs C ≈ 6·N·T FLOPs for N non-embedding
/// parameters and T tokens, plus the attention's context-dependent FLOPs, plus the
/// de-embedding (LM head). Summing the Train forward and its backward for Llama-2-7B and
/// removing attention and the LM head must leave 6·N·T within 0.5 %: what remains beside
/// the layers' matmuls is their vector work (norms, SwiGLU, rotary embedding, residual
/// adds and their gradients), about 0.05 % of it at this width; 0.5 % fails if any matmul's
/// backward were off by a single GEMM of the smallest projection.
#[test]
fn llama_training_flops_are_six_n_t_plus_attention() {
    let (batch, seq) = (1, 2048);
    let g = train("llama-2-7b", batch, seq);
    let b = backward(&g).unwrap();
    let t = (batch * seq) as f64;
    let n = g
        .weights
        .iter()
        .filter(|w| w.name != "embed.tokens" && w.name != "lm_head.weight")
        .map(|w| w.elems())
        .sum::<u64>() as f64;
    assert!((n - 6.48e9).abs() / 6.48e9 < 0.01, "N = {n}");
    let all = |f: &dyn Fn(&xpusim_ir::Op) -> bool| -> f64 {
        g.ops
            .iter()
            .chain(&b.ops)
            .filter(|o| f(o))
            .map(|o| (o.flops() * o.repeat) as f64)
            .sum()
    };
    let total = all(&|_| true);
    let attention = all(&|o| matches!(o.kind, OpKind::Attention(_) | OpKind::AttentionGrad(_)));
    let head = all(&|o| o.name.starts_with("lm_head") || o.name.starts_with("loss"));
    let rest = total - attention - head;
    let six_nt = 6.0 * n * t;
    println!("rest / 6NT = {:.5}", rest / six_nt);
    assert!(
        (rest / six_nt - 1.0).abs() < 0.005,
        "{rest:e} vs 6NT {six_nt:e}"
    );
    // The attention part: forward 2·2·L²/2·d per head and layer, backward 2.5×.
    let attn_fwd = 4.0 * 32.0 * 32.0 * 128.0 * (seq * (seq + 1) / 2) as f64;
    let attn_mm = 3.5 * attn_fwd;
    assert!(
        attention > attn_mm && attention < 1.1 * attn_mm,
        "{attention:e} vs {attn_mm:e}"
    );
}

/// Real training micro-batches of 70B and 405B models build, forward and backward, within
/// the IR's size bounds (per-op work counted exactly): 16 × 8192 tokens through Llama-3-70B
/// (80 × 6.2e13 gate/up MACs per layer group) and Llama-3.1-405B (126 × 2.3e14).
#[test]
fn micro_batches_of_16_by_8192_tokens_build_for_70b_and_405b() {
    for (name, n) in [("llama-3-70b", 70.6e9), ("llama-3.1-405b", 405.8e9)] {
        let g = train(name, 16, 8192);
        let b = backward(&g).unwrap();
        let fwd = g.totals().flops as f64;
        // 2·N·T plus attention (20–30 % at 8192 tokens) and the LM head.
        let two_nt = 2.0 * n * (16.0 * 8192.0);
        assert!(
            fwd > two_nt && fwd < 1.4 * two_nt,
            "{name}: {fwd:e} vs {two_nt:e}"
        );
        let ratio = b.totals().flops as f64 / contraction_flops(&g) as f64;
        assert!((2.0..2.3).contains(&ratio), "{name}: {ratio}");
    }
}
