//! Invariants: more bandwidth or compute never makes an op slower; FLOPs are device-free.

use proptest::prelude::*;
use xpusim_engine::{cost_op, EngineError};
use xpusim_hw::{find_preset, DeviceSpec};
use xpusim_ir::autodiff::backward;
use xpusim_ir::{
    AttentionSpec, ConvSpec, DType, Graph, LossKind, MatmulSpec, Names, NormKind, Op, Phase,
    Precision, RecurrentCell, RecurrentSpec, Role,
};

fn op_strategy() -> impl Strategy<Value = Op> {
    let p = Precision::uniform(DType::Bf16);
    prop_oneof![
        (1u64..4, 1u64..5000, 1u64..5000, 1u64..5000).prop_map(move |(b, m, n, k)| {
            Op::matmul(
                "mm",
                MatmulSpec {
                    batch: b,
                    m,
                    n,
                    k,
                    rhs_batched: b > 1,
                },
                Names {
                    lhs: "a",
                    rhs: "w",
                    out: "c",
                },
                Role::Weight,
                p.act,
                p.weight,
                p.compute,
            )
            .unwrap()
        }),
        (
            1u64..4,
            1u64..256,
            7u64..64,
            1u64..256,
            0usize..3,
            1u64..3,
            any::<bool>()
        )
            .prop_map(move |(n, c, h, k, rs, stride, dw)| {
                let r = [1, 3, 5][rs];
                let groups = if dw { c } else { 1 };
                let k = if dw { c } else { k };
                Op::conv(
                    "conv",
                    ConvSpec {
                        n,
                        c,
                        h,
                        w: h,
                        k,
                        r,
                        s: r,
                        stride: (stride, stride),
                        pad: (r / 2, r / 2, r / 2, r / 2),
                        dilation: (1, 1),
                        groups,
                        transposed: false,
                    },
                    "w",
                    p,
                )
                .unwrap()
            }),
        (1u64..16, 1u64..3, 1u64..2048, 1u64..4096, any::<bool>()).prop_map(
            move |(b, g, q, kv, causal)| {
                let kv = kv.max(q);
                Op::attention(
                    "attn",
                    AttentionSpec {
                        batch: b,
                        heads: 8 * g,
                        kv_heads: 8,
                        q_len: q,
                        kv_len: kv,
                        head_dim: 128,
                        v_head_dim: 128,
                        causal,
                    },
                    Role::KvCache,
                    p,
                )
                .unwrap()
            }
        ),
        // A decode step one query head per thread block (a runtime's MMHA kernel).
        (1u64..512, 1u64..9, 1u64..8192).prop_map(move |(b, g, kv)| {
            let mut op = Op::attention(
                "attn_decode",
                AttentionSpec {
                    batch: b,
                    heads: 8 * g,
                    kv_heads: 8,
                    q_len: 1,
                    kv_len: kv,
                    head_dim: 128,
                    v_head_dim: 128,
                    causal: true,
                },
                Role::KvCache,
                p,
            )
            .unwrap();
            op.per_query_head = true;
            op
        }),
        (1u64..64, 1u64..64, 1u64..1024, 1u64..1024).prop_map(move |(t, b, i, h)| {
            Op::recurrent(
                "lstm",
                RecurrentSpec {
                    cell: RecurrentCell::Lstm,
                    seq_len: t,
                    batch: b,
                    input_size: i,
                    hidden_size: h,
                    directions: 1,
                },
                p,
            )
            .unwrap()
        }),
        (1u64..100_000, 1u64..8192)
            .prop_map(|(r, c)| { Op::norm("ln", NormKind::LayerNorm, r, c, DType::Bf16).unwrap() }),
        // FlashAttention-2's backward (training), MHA and GQA, causal or not.
        (
            1u64..16,
            1u64..3,
            1u64..4096,
            1u64..4096,
            any::<bool>(),
            prop_oneof![Just(64u64), Just(128)]
        )
            .prop_map(move |(b, g, q, kv, causal, d)| {
                Op::attention_grad(
                    "attn_bwd",
                    AttentionSpec {
                        batch: b,
                        heads: 8 * g,
                        kv_heads: 8,
                        q_len: q,
                        kv_len: kv.max(q),
                        head_dim: d,
                        v_head_dim: d,
                        causal,
                    },
                    p,
                )
                .unwrap()
            }),
        // The training loss and the gradient ops of a linear layer and a norm.
        (1u64..8192, 2u64..65_536).prop_map(|(r, c)| {
            Op::loss("loss", LossKind::CrossEntropy, r, c, DType::Bf16).unwrap()
        }),
        (1u64..4096, 1u64..4096, 1u64..4096, 0usize..4).prop_map(move |(m, k, n, i)| {
            let mut g = Graph::new("t", Phase::Train, 1, m);
            g.push(Op::norm("ln", NormKind::LayerNorm, m, k, DType::Bf16).unwrap());
            g.push(Op::linear("fc", m, k, n, "w", p).unwrap());
            backward(&g).unwrap().ops.swap_remove(i)
        }),
    ]
}

/// Every way of making a device strictly more capable.
fn upgrades(d: &DeviceSpec) -> Vec<(String, DeviceSpec)> {
    let mut v = Vec::new();
    for i in 0..d.memory.len() {
        let mut u = d.clone();
        u.memory[i].bandwidth_gbps *= 2.0;
        v.push((format!("memory[{i}].bandwidth x2"), u));
        let mut u = d.clone();
        u.memory[i].capacity_bytes *= 2;
        v.push((format!("memory[{i}].capacity x2"), u));
    }
    let mut u = d.clone();
    u.matrix.peak_tflops.values_mut().for_each(|x| *x *= 2.0);
    v.push(("matrix peak x2".into(), u));
    let mut u = d.clone();
    u.vector.peak_tflops.values_mut().for_each(|x| *x *= 2.0);
    v.push(("vector peak x2".into(), u));
    let mut u = d.clone();
    u.matrix.efficiency = (u.matrix.efficiency * 1.1).min(1.0);
    v.push(("matrix efficiency up".into(), u));
    let mut u = d.clone();
    u.overhead.launch_us /= 2.0;
    v.push(("launch overhead /2".into(), u));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn upgrades_never_slow_an_op(op in op_strategy()) {
        for name in ["a100-80gb", "h100-sxm"] {
            let base = find_preset(name).unwrap();
            let t0 = cost_op(&op, &base).unwrap().time_s;
            for (what, dev) in upgrades(&base) {
                let t1 = cost_op(&op, &dev).unwrap().time_s;
                prop_assert!(t1 <= t0 * (1.0 + 1e-9), "{name} {what}: {t0} -> {t1} for {op:?}");
            }
        }
    }

    /// The energy breakdown (arithmetic, each memory level, PIM, static power) sums to the
    /// op's energy on every preset, through fallbacks, calibration curves and power caps.
    #[test]
    fn energy_parts_sum_to_the_total(op in op_strategy()) {
        for name in ["a100-80gb", "h100-sxm", "xformer-asic", "groq-lpu", "tpu-v4"] {
            let dev = find_preset(name).unwrap();
            let c = cost_op(&op, &dev).unwrap();
            let parts = c.compute_energy_j + c.memory_energy_j() + c.pim_energy_j + c.idle_energy_j;
            prop_assert!((parts - c.energy_j).abs() <= 1e-9 * c.energy_j.max(1e-30),
                "{name}: parts {parts} vs total {} for {op:?}", c.energy_j);
            prop_assert!(c.idle_energy_j >= dev.power.idle_w * c.time_s * (1.0 - 1e-9));
        }
    }

    #[test]
    fn flops_do_not_depend_on_the_device(op in op_strategy()) {
        let f = op.flops();
        for name in ["a100-80gb", "h100-sxm"] {
            let dev = find_preset(name).unwrap();
            cost_op(&op, &dev).unwrap();
            prop_assert_eq!(op.flops(), f);
        }
    }
}

#[test]
fn tiny_scratchpad_is_a_clear_error() {
    let mut dev = find_preset("h100-sxm").unwrap();
    dev.memory[0].capacity_bytes = 64;
    let p = Precision::uniform(DType::Bf16);
    let op = Op::linear("fc1", 128, 4096, 4096, "w", p).unwrap();
    match cost_op(&op, &dev) {
        Err(EngineError::TileDoesNotFit {
            op,
            level,
            capacity_bytes,
            need_bytes,
        }) => {
            assert_eq!(op, "fc1");
            assert_eq!(level, "smem");
            assert_eq!(capacity_bytes, 64);
            assert!(need_bytes > 64);
        }
        other => panic!("expected TileDoesNotFit, got {other:?}"),
    }
}

#[test]
fn decode_gemv_is_bound_by_hbm_and_prefill_gemm_by_compute() {
    let dev = find_preset("h100-sxm").unwrap();
    let p = Precision::uniform(DType::Bf16);
    let gemv = cost_op(&Op::linear("up", 1, 4096, 22016, "w", p).unwrap(), &dev).unwrap();
    assert_eq!(gemv.bound.label(), "memory:hbm3");
    // Vidur measures 0.064 ms for this op (../shared/calibration/vidur, 1 token).
    assert!(
        (gemv.time_s - 0.064e-3).abs() / 0.064e-3 < 0.15,
        "{}",
        gemv.time_s
    );
    let gemm = cost_op(&Op::linear("up", 4096, 4096, 22016, "w", p).unwrap(), &dev).unwrap();
    assert_eq!(gemm.bound.label(), "compute");
    // Vidur: 0.987 ms at 4096 tokens.
    assert!(
        (gemm.time_s - 0.987e-3).abs() / 0.987e-3 < 0.15,
        "{}",
        gemm.time_s
    );
}
