//! FlashAttention-2's backward on real devices: 2.5× the forward's matmuls, with the
//! recompute and the dQ accumulation making it slower than that against the forward, as
//! measured (Dao 2023, Fig. 6–7: backward at 2.5–3.5× the forward's time on A100).

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{AttentionSpec, DType, Op, Precision, Role};

fn spec(seq: u64, causal: bool) -> AttentionSpec {
    AttentionSpec {
        batch: 4,
        heads: 32,
        kv_heads: 32,
        q_len: seq,
        kv_len: seq,
        head_dim: 128,
        v_head_dim: 128,
        causal,
    }
}

/// The backward's matrix work is 2.5× the forward's (five matmuls to two, same tiles) and its
/// softmax evaluates as many exponentials (the recompute of `P`), so its compute is 2–3× the
/// forward's: below 2.5× where the exponentials add to the MMAs (A100), 2.5× where they hide
/// beside them (H100). Its time, with the row statistics and the FP32 dQ accumulation, is
/// between 1.5× and 4× the forward's (FlashAttention-2 measures 2.5–3.5× on A100, Dao 2023
/// Fig. 6–7). The compute ratio holds on the H100 too; its time ratio does not, as there
/// the forward runs as FlashAttention-3 (softmax beside the MMAs; `forward_on_h100_runs_at_
/// flash_attention_3_speed` in attention_forward.rs) and the backward as FlashAttention-2.
#[test]
fn backward_takes_more_than_one_and_a_half_forwards() {
    let p = Precision::uniform(DType::Bf16);
    for dev in ["a100-80gb", "h100-sxm"] {
        let d = find_preset(dev).unwrap();
        for (seq, causal) in [(2048, true), (4096, true), (4096, false), (8192, true)] {
            let a = spec(seq, causal);
            let f = cost_op(&Op::attention("f", a, Role::Input, p).unwrap(), &d).unwrap();
            let b = cost_op(&Op::attention_grad("b", a, p).unwrap(), &d).unwrap();
            let r = b.time_s / f.time_s;
            let m = b.compute_s / f.compute_s;
            if dev == "a100-80gb" {
                assert!((1.5..4.0).contains(&r), "{dev} {seq} {causal}: time {r}");
            }
            assert!((2.0..3.0).contains(&m), "{dev} {seq} {causal}: compute {m}");
        }
    }
}

/// Under GQA, FlashAttention-2 writes dK and dV per query head and sums them over each
/// group afterwards (flash-attn 2's `dk_expanded`): with 4 query heads per KV head, K and V
/// read from memory shrink 4×, but dK, dV are written 4×, re-read 4× and written once; the
/// matrix work is the same.
#[test]
fn gqa_backward_writes_key_gradients_per_query_head_then_sums_them() {
    let p = Precision::uniform(DType::Bf16);
    let d = find_preset("h100-sxm").unwrap();
    let mha = spec(4096, true);
    let gqa = AttentionSpec { kv_heads: 8, ..mha };
    let c = |a| cost_op(&Op::attention_grad("b", a, p).unwrap(), &d).unwrap();
    let (m, g) = (c(mha), c(gqa));
    assert_eq!(m.compute_s, g.compute_s);
    let kv = 2 * 4 * 32 * 4096 * 128 * 2u64;
    // Off-chip: K, V once (kv/4) + dK, dV 4× written, 4× read, 1× written (9/4 kv) vs
    // kv + kv. From L2 every query head still reads its K, V block: kv + 9/4 kv vs 2 kv.
    let diff = |level| g.traffic_bytes(level) - m.traffic_bytes(level);
    assert_eq!(diff("hbm3"), kv / 2);
    assert_eq!(diff("l2"), 5 * kv / 4);
}
