//! Invariants of the mapping search on random layers and random NPUs.

use proptest::prelude::*;
use xpusim_ir::{ConvSpec, DType, Op, Precision};
use xpusim_npu::{map_problem, MapperError, NpuArch, Objective, Problem};

const DEVICES: [&str; 5] = [
    "tpu-v4",
    "rebellions-atom",
    "furiosa-rngd",
    "eyeriss",
    "npu-systolic",
];

fn arch(preset: usize, rows: u64, cols: u64, cores: u64, spm_kib: u64) -> NpuArch {
    let mut a = NpuArch::load(DEVICES[preset]).expect("device converts");
    a.array.rows = rows;
    a.array.cols = cols;
    a.cores = cores;
    a.memory[0].capacity_bytes = spm_kib * 1024;
    a
}

fn layer(conv: bool, a: u64, b: u64, c: u64, k: u64, stride: u64) -> Op {
    let p = Precision::uniform(DType::Bf16);
    if conv {
        let spec = ConvSpec {
            n: 1,
            c,
            h: a + 2,
            w: b + 2,
            k,
            r: 3,
            s: 3,
            stride: (stride, stride),
            pad: (1, 1, 1, 1),
            dilation: (1, 1),
            groups: 1,
            transposed: false,
        };
        Op::conv("conv", spec, "w", p).expect("valid conv")
    } else {
        Op::linear("gemm", a * b, c, k, "w", p).expect("valid gemm")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mappings_fit_conserve_work_and_respect_bounds(
        preset in 0usize..5,
        rows in 1u64..64, cols in 1u64..64, cores in 1u64..5, spm_kib in 1u64..4096,
        conv in any::<bool>(), a in 1u64..40, b in 1u64..40, c in 1u64..300, k in 1u64..300,
        stride in 1u64..3, obj in 0usize..3,
    ) {
        let arch = arch(preset, rows, cols, cores, spm_kib);
        let op = layer(conv, a, b, c, k, stride);
        let pb = &Problem::from_op(&op).expect("problem")[0];
        let obj = [Objective::Latency, Objective::Energy, Objective::Edp][obj];
        match map_problem(pb, &arch, DType::Bf16, obj) {
            Ok(m) => {
                prop_assert_eq!(m.macs, op.macs());
                for (i, l) in m.levels.iter().enumerate() {
                    prop_assert!(l.used_bytes <= arch.memory[i].capacity_bytes);
                }
                let pes = rows * cols * cores;
                // No mapping beats perfect use of every PE, or is cheaper than its MACs.
                prop_assert!(m.compute_cycles + 1 >= m.macs.div_ceil(pes));
                prop_assert!(m.latency_cycles >= m.compute_cycles);
                prop_assert!(m.utilization <= 1.0 + 1e-9);
                prop_assert!(m.energy.total_pj >= m.energy.mac_pj);
                // Off-chip traffic is at least the compulsory weight bytes once.
                let last = *m.traffic_bytes.last().expect("a boundary");
                prop_assert!(last >= op.operands[1].bytes());
            }
            Err(MapperError::TileDoesNotFit { capacity_bytes, need_bytes, .. }) => {
                prop_assert!(need_bytes > capacity_bytes);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
