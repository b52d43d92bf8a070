//! Decode attention run one query head per thread block (`Op::per_query_head`) against the
//! packed kernel the engine prices by default.

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{AttentionSpec, DType, Op, Precision, Role};

/// Llama-2-70B's decode attention on one device: 64 query heads over 8 KV heads, FP8 cache.
fn llama70b_step(batch: u64, context: u64) -> AttentionSpec {
    AttentionSpec {
        batch,
        heads: 64,
        kv_heads: 8,
        q_len: 1,
        kv_len: context,
        head_dim: 128,
        v_head_dim: 128,
        causal: true,
    }
}

fn ops(a: AttentionSpec, p: Precision) -> (Op, Op) {
    let packed = Op::attention("attn", a, Role::KvCache, p).unwrap();
    let mut per_head = packed.clone();
    per_head.per_query_head = true;
    (packed, per_head)
}

/// Each query head reads its KV head's cache on its own from L2 (8× the packed kernel's
/// reads under 8-way GQA), and off-chip memory serves it once; the work is the same.
#[test]
fn each_query_head_reads_the_cache_from_l2_and_hbm_serves_it_once() {
    let d = find_preset("h200").unwrap();
    let (packed, per_head) = ops(llama70b_step(192, 1152), Precision::uniform(DType::Fp8));
    let (p, h) = (
        cost_op(&packed, &d).unwrap(),
        cost_op(&per_head, &d).unwrap(),
    );
    let off = d.offchip().name.clone();
    let kv = packed.operands[1].bytes() + packed.operands[2].bytes();
    let qo = packed.operands[0].bytes() + packed.operands[3].bytes();
    assert_eq!(h.traffic_bytes("l2"), qo + 8 * kv);
    assert_eq!(h.traffic_bytes(&off), qo + kv);
    assert_eq!(p.traffic_bytes(&off), qo + kv);
    assert!(h.mapping.starts_with("per query head"), "{}", h.mapping);
    // L2-bound at 8× the reads: between 4× and 8× the packed kernel's HBM-bound time (L2
    // has 1.1-1.7× HBM's bandwidth on the H100 class).
    let ratio = h.time_s / p.time_s;
    assert!((4.0..8.0).contains(&ratio), "{ratio}");
}

/// Without GQA (one query head per KV head) the two kernels move the same bytes; the
/// per-head kernel only moves its dot products from the matrix to the vector units.
#[test]
fn without_grouping_the_kernels_read_the_same_bytes() {
    let d = find_preset("h100-sxm").unwrap();
    let a = AttentionSpec {
        kv_heads: 64,
        ..llama70b_step(64, 2048)
    };
    let (packed, per_head) = ops(a, Precision::uniform(DType::Fp16));
    let (p, h) = (
        cost_op(&packed, &d).unwrap(),
        cost_op(&per_head, &d).unwrap(),
    );
    let off = d.offchip().name.clone();
    assert_eq!(h.traffic_bytes(&off), p.traffic_bytes(&off));
    assert!(
        (h.time_s / p.time_s - 1.0).abs() < 0.1,
        "{} vs {}",
        h.time_s,
        p.time_s
    );
}

/// The dot products are charged at the vector units' rate and energy: a device with twice
/// the FP32 vector rate runs a compute-bound per-head step faster, and never slower.
#[test]
fn dot_products_run_on_the_vector_units() {
    let base = find_preset("a100-80gb").unwrap();
    let mut fast = base.clone();
    for v in fast.vector.peak_tflops.values_mut() {
        *v *= 2.0;
    }
    // Short context, many sequences, MQA: compute-heavy per byte.
    let a = AttentionSpec {
        kv_heads: 1,
        ..llama70b_step(256, 256)
    };
    let (_, op) = ops(a, Precision::uniform(DType::Fp16));
    let (s, f) = (cost_op(&op, &base).unwrap(), cost_op(&op, &fast).unwrap());
    assert!(f.compute_s < s.compute_s);
    assert!(f.time_s <= s.time_s);
    let flops = 2.0 * op.macs() as f64 + op.vector_flops() as f64;
    let expected_j = flops * base.energy.vector_flop_pj * 1e-12;
    assert!((s.compute_energy_j / expected_j - 1.0).abs() < 1e-9);
}

/// More L2 bandwidth, more HBM bandwidth or more vector throughput never slows the
/// per-head kernel.
#[test]
fn upgrades_never_slow_the_per_head_kernel() {
    let base = find_preset("h100-sxm").unwrap();
    for (batch, context, kv_heads) in [(1, 128, 8), (8, 4096, 8), (480, 1152, 2), (64, 64, 64)] {
        let a = AttentionSpec {
            kv_heads,
            ..llama70b_step(batch, context)
        };
        let (_, op) = ops(a, Precision::uniform(DType::Fp8));
        let t0 = cost_op(&op, &base).unwrap().time_s;
        for level in ["l2", "hbm3"] {
            let mut up = base.clone();
            for m in up.memory.iter_mut().filter(|m| m.name == level) {
                m.bandwidth_gbps *= 1.5;
            }
            assert!(
                cost_op(&op, &up).unwrap().time_s <= t0,
                "{level} {batch}x{context}"
            );
        }
        let mut up = base.clone();
        for v in up.vector.peak_tflops.values_mut() {
            *v *= 1.5;
        }
        assert!(
            cost_op(&op, &up).unwrap().time_s <= t0,
            "vector {batch}x{context}"
        );
    }
}
