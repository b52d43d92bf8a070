//! GPT-3 175B, one layer, on 4×A100 with tensor parallelism 4, against the per-operator
//! PyTorch timings of the LLMCompass artifact (../shared/calibration/llmcompass,
//! figure5_ijkl_transformer{,AR}_A100.csv): prefill batch 8 × 2048 tokens and decode batch 8
//! at KV length 3072, FP16. The layer is built with unfused attention (Q·Kᵀ, softmax, A·V)
//! because that is what was measured. The table is recorded in CALIBRATION.md.

use std::path::PathBuf;

use xpusim_ir::{
    Block, DType, Graph, IrError, MatmulSpec, Names, NormKind, Op, OpRole, Phase, Precision, Role,
};
mod common;

use common::on_system;
use xpusim_hw::find_system;
use xpusim_system::Parallelism;
use xpusim_target::ModelCost;

const HIDDEN: u64 = 12288;
const HEADS: u64 = 96;
const HEAD_DIM: u64 = 128;
const FFN: u64 = 49152;
/// GELU, tanh approximation: ≈ 8 FLOPs per element (as xpusim-models counts it).
const GELU_FLOPS: u64 = 8;

/// One GPT-3 layer for `batch` sequences of `q` new tokens attending over `kv` positions.
fn gpt3_layer(phase: Phase, batch: u64, q: u64, kv: u64) -> Result<Graph, IrError> {
    let p = Precision::uniform(DType::Fp16);
    let t = batch * q;
    let pre = "layers.attn_dense";
    let mut g = Graph::new(
        "gpt3-175b-layer",
        phase,
        batch,
        if phase == Phase::Decode { 1 } else { q },
    );
    // The roles a frontend gives these ops (Megatron layout), so the layer shards.
    let lin = |g: &mut Graph, name: &str, k: u64, n: u64, role: OpRole| -> Result<(), IrError> {
        let w = format!("{name}.weight");
        g.weight(&w, &[k, n], p.weight, 1)?;
        g.push(Op::linear(name, t, k, n, &w, p)?.with_role(role));
        Ok(())
    };
    let heads = OpRole::Heads(Block::Attention);
    let kv_role = if phase == Phase::Decode {
        Role::KvCache
    } else {
        Role::Input
    };
    let bmm = |name: &str, m: u64, n: u64, k: u64| -> Result<Op, IrError> {
        let spec = MatmulSpec {
            batch: batch * HEADS,
            m,
            n,
            k,
            rhs_batched: true,
        };
        let names = Names {
            lhs: &format!("{name}.a"),
            rhs: &format!("{name}.b"),
            out: &format!("{name}.out"),
        };
        Ok(Op::matmul(name, spec, names, kv_role, p.act, p.kv, p.compute)?.with_role(heads))
    };
    g.weight(&format!("{pre}.attn_norm.gamma"), &[HIDDEN], p.weight, 1)?;
    g.push(Op::norm(
        &format!("{pre}.attn_norm"),
        NormKind::LayerNorm,
        t,
        HIDDEN,
        p.act,
    )?);
    lin(
        &mut g,
        &format!("{pre}.attn.qkv"),
        HIDDEN,
        3 * HIDDEN,
        OpRole::Column(Block::Attention),
    )?;
    g.push(bmm(&format!("{pre}.attn.qk"), q, kv, HEAD_DIM)?);
    g.push(
        Op::softmax(&format!("{pre}.attn.softmax"), batch * HEADS * q, kv, p.act)?.with_role(heads),
    );
    g.push(bmm(&format!("{pre}.attn.av"), q, HEAD_DIM, kv)?);
    lin(
        &mut g,
        &format!("{pre}.attn.o"),
        HIDDEN,
        HIDDEN,
        OpRole::Row(Block::Attention),
    )?;
    g.push(
        Op::elementwise(
            &format!("{pre}.attn_residual"),
            "add",
            t * HIDDEN,
            2,
            1,
            p.act,
        )?
        .with_role(OpRole::Residual),
    );
    g.weight(&format!("{pre}.ffn_norm.gamma"), &[HIDDEN], p.weight, 1)?;
    g.push(Op::norm(
        &format!("{pre}.ffn_norm"),
        NormKind::LayerNorm,
        t,
        HIDDEN,
        p.act,
    )?);
    lin(
        &mut g,
        &format!("{pre}.mlp.up"),
        HIDDEN,
        FFN,
        OpRole::Column(Block::Mlp),
    )?;
    g.push(
        Op::elementwise(
            &format!("{pre}.mlp.act"),
            "gelu",
            t * FFN,
            1,
            GELU_FLOPS,
            p.act,
        )?
        .with_role(OpRole::Sliced(Block::Mlp)),
    );
    lin(
        &mut g,
        &format!("{pre}.mlp.down"),
        FFN,
        HIDDEN,
        OpRole::Row(Block::Mlp),
    )?;
    g.push(
        Op::elementwise(
            &format!("{pre}.ffn_residual"),
            "add",
            t * HIDDEN,
            2,
            1,
            p.act,
        )?
        .with_role(OpRole::Residual),
    );
    Ok(g)
}

/// Measured operators in file order, with the op of our graph each one corresponds to.
const ROWS: [(&str, &str); 12] = [
    ("QKV projection", "attn.qkv"),
    ("Q·Kᵀ", "attn.qk"),
    ("A·V", "attn.av"),
    ("Wo", "attn.o"),
    ("W1 (FFN up)", "mlp.up"),
    ("W2 (FFN down)", "mlp.down"),
    ("softmax", "attn.softmax"),
    ("LayerNorm (MHA)", "attn_norm"),
    ("LayerNorm (FFN)", "ffn_norm"),
    ("GELU", "mlp.act"),
    ("all-reduce (MHA)", "attn_residual.tp_allreduce"),
    ("all-reduce (FFN)", "ffn_residual.tp_allreduce"),
];

fn measured(file: &str) -> Option<Vec<f64>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/calibration/llmcompass")
        .join(file);
    let text = std::fs::read_to_string(&p).ok()?;
    let v: Vec<f64> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    (v.len() == ROWS.len()).then_some(v)
}

fn predicted(c: &ModelCost, suffix: &str) -> f64 {
    c.ops
        .iter()
        .filter(|o| o.name == format!("layers.attn_dense.{suffix}"))
        .map(|o| o.time_s)
        .sum()
}

/// Prints the table and returns predicted / measured per row.
fn compare(title: &str, c: &ModelCost, m: &[f64]) -> Vec<f64> {
    println!(
        "\n{title}\n| operator | measured (µs) | predicted (µs) | error |\n|---|---:|---:|---:|"
    );
    let mut ratios = Vec::new();
    let (mut tm, mut tp) = (0.0, 0.0);
    for ((label, suffix), meas) in ROWS.iter().zip(m) {
        let pred = predicted(c, suffix);
        assert!(pred > 0.0, "{suffix} missing from the system report");
        tm += meas;
        tp += pred;
        println!(
            "| {label} | {:.1} | {:.1} | {:+.1} % |",
            meas * 1e6,
            pred * 1e6,
            (pred / meas - 1.0) * 100.0
        );
        ratios.push(pred / meas);
    }
    println!(
        "| **layer total** | {:.1} | {:.1} | {:+.1} % |",
        tm * 1e6,
        tp * 1e6,
        (tp / tm - 1.0) * 100.0
    );
    ratios.push(tp / tm);
    ratios
}

fn within(r: f64, frac: f64) -> bool {
    (r - 1.0).abs() <= frac
}

fn factor(r: f64) -> f64 {
    r.max(1.0 / r)
}

#[test]
fn gpt3_layer_on_4x_a100_tp4() {
    let (Some(pre_m), Some(dec_m)) = (
        measured("figure5_ijkl_transformer_A100.csv"),
        measured("figure5_ijkl_transformerAR_A100.csv"),
    ) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        eprintln!("skipped: ../shared/calibration/llmcompass not found");
        return;
    };
    let sys = find_system("dgx-a100").unwrap();
    let par = Parallelism::tp(4);
    let pre = on_system(
        &gpt3_layer(Phase::Prefill, 8, 2048, 2048).unwrap(),
        &sys,
        &par,
        false,
    )
    .unwrap();
    let dec = on_system(
        &gpt3_layer(Phase::Decode, 8, 1, 3072).unwrap(),
        &sys,
        &par,
        false,
    )
    .unwrap();
    let rp = compare("prefill, batch 8 × 2048", &pre, &pre_m);
    let rd = compare("decode, batch 8, KV 3072", &dec, &dec_m);
    // What the model achieves today (CALIBRATION.md explains each bound).
    // Prefill weight GEMMs and A·V: compute-bound, within 16 % (10 % while the A100 matrix
    // efficiency was tuned against LLMCompass's GEMMs; since issue #15 it is derived from the
    // flagged Vidur A100 GEMMs, 0.79, and these rows are held out: W1/W2 +15 %).
    for i in [0, 2, 3, 4, 5] {
        assert!(
            within(rp[i], 0.16),
            "prefill {}: ratio {:.2}",
            ROWS[i].0,
            rp[i]
        );
    }
    // Prefill all-reduce of 403 MB: bandwidth-bound at NCCL's A100 bus bandwidth, 15 %.
    for i in [10, 11] {
        assert!(
            within(rp[i], 0.15),
            "prefill {}: ratio {:.2}",
            ROWS[i].0,
            rp[i]
        );
    }
    assert!(within(rp[12], 0.10), "prefill layer ratio {:.2}", rp[12]);
    // Decode FFN GEMMs stream 302 MB of weights each: within 10 %; the QKV and Wo GEMMs
    // ran at lower bandwidth in the measurement (1.07 and 1.10 TB/s): within 35 %.
    for i in [4, 5] {
        assert!(
            within(rd[i], 0.10),
            "decode {}: ratio {:.2}",
            ROWS[i].0,
            rd[i]
        );
    }
    for i in [0, 3] {
        assert!(
            within(rd[i], 0.35),
            "decode {}: ratio {:.2}",
            ROWS[i].0,
            rd[i]
        );
    }
    // Decode all-reduce of 196 KB is latency-bound: NCCL's own cost model (LL protocol)
    // plus one kernel launch gives 15 µs, PyTorch measured 26 µs (host-side call overhead
    // is not modelled): within 2×.
    for i in [10, 11] {
        assert!(
            factor(rd[i]) <= 2.0,
            "decode {}: ratio {:.2}",
            ROWS[i].0,
            rd[i]
        );
    }
    assert!(within(rd[12], 0.30), "decode layer ratio {:.2}", rd[12]);
}
