//! The tile-search memo changes nothing but time: every op of every built-in model costs the
//! same, bit for bit, with the memo on (first search and repeated hit) and off, on every
//! device preset and on designs that share a preset's geometry but not its rates, and on
//! random contractions over random geometries.

use proptest::prelude::*;
use xpusim_engine::{cost_op, tile_memo, OpCost};
use xpusim_hw::{find_preset, preset_names, DeviceSpec};
use xpusim_ir::{DType, Graph, MatmulSpec, Names, Op, Precision, Role};

fn costs(g: &Graph, dev: &DeviceSpec) -> Vec<Result<OpCost, String>> {
    g.ops
        .iter()
        .map(|o| cost_op(o, dev).map_err(|e| e.to_string()))
        .collect()
}

fn unmemoised(g: &Graph, dev: &DeviceSpec) -> Vec<Result<OpCost, String>> {
    tile_memo::set_enabled(false);
    let c = costs(g, dev);
    tile_memo::set_enabled(true);
    c
}

/// The same chip with other rates: every peak, bandwidth and the clock scaled; geometry
/// (cores, tile, capacities) unchanged, so the memo hits.
fn rescaled(dev: &DeviceSpec, f: f64) -> DeviceSpec {
    let mut d = dev.clone();
    d.clock_ghz *= f;
    for v in d.matrix.peak_tflops.values_mut() {
        *v *= f;
    }
    for v in d.vector.peak_tflops.values_mut() {
        *v *= f;
    }
    for m in &mut d.memory {
        m.bandwidth_gbps /= f;
    }
    d
}

#[test]
fn every_zoo_model_costs_the_same_with_and_without_the_memo() {
    let devices: Vec<DeviceSpec> = preset_names()
        .iter()
        .map(|n| find_preset(n).expect("preset loads"))
        .collect();
    let mut compared = 0usize;
    for m in xpusim_models::catalog() {
        let phase = m.phases[0];
        let g = xpusim_models::build(m.name, &m.workload(phase)).expect("zoo model builds");
        for dev in &devices {
            for d in [dev.clone(), rescaled(dev, 1.7)] {
                let want = unmemoised(&g, &d);
                assert_eq!(costs(&g, &d), want, "{} on {} (first)", m.name, d.name);
                assert_eq!(costs(&g, &d), want, "{} on {} (hit)", m.name, d.name);
                compared += want.len();
            }
        }
    }
    assert!(compared > 1000, "only {compared} op costs compared");
}

fn matmul(m: u64, n: u64, k: u64, dtype: DType) -> Op {
    let p = Precision::uniform(dtype);
    Op::matmul(
        "mm",
        MatmulSpec {
            batch: 1,
            m,
            n,
            k,
            rhs_batched: false,
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
    .expect("valid matmul")
}

/// `d` with one geometry field (`which`) changed.
fn one_field_changed(d: &DeviceSpec, which: usize) -> DeviceSpec {
    let mut e = d.clone();
    match which {
        0 => e.cores += 1,
        1 => {
            e.core_cluster = if d.core_cluster > 1 {
                1
            } else {
                2.min(d.cores)
            }
        }
        2 => e.memory[0].capacity_bytes /= 2,
        3 => e.memory[1].capacity_bytes /= 2,
        4 => e.matrix.tile[0] *= 2,
        5 => e.matrix.tile[1] *= 2,
        _ => e.matrix.tile[2] *= 2,
    }
    e
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random shapes and storage widths on a random geometry, costed right after the memo
    /// saw the same design with one geometry field changed: a key that missed that field
    /// would return the other design's tiles.
    #[test]
    fn random_contractions_on_neighbouring_geometries(
        m in 1u64..4096, n in 1u64..4096, k in 1u64..4096,
        wide in any::<bool>(),
        cores in 1u64..200,
        sram_kib in 16u64..1024,
        l2_mib in 1u64..128,
        f in 0.5f64..2.0,
        which in 0usize..8,
    ) {
        let base = find_preset("h100-sxm").expect("preset");
        let op = matmul(m, n, k, if wide { DType::Fp32 } else { DType::Bf16 });
        let mut d = rescaled(&base, f);
        d.cores = cores;
        d.core_cluster = d.core_cluster.min(cores);
        d.memory[0].capacity_bytes = sram_kib << 10;
        d.memory[1].capacity_bytes = l2_mib << 20;
        let graph = |op: Op| Graph { ops: vec![op], ..Graph::new("random", xpusim_ir::Phase::Inference, 1, 1) };
        let g = graph(op);
        if which == 7 {
            // The same shape stored at the other width, on the same design.
            let _ = costs(&graph(matmul(m, n, k, if wide { DType::Bf16 } else { DType::Fp32 })), &d);
        } else {
            let _ = costs(&g, &one_field_changed(&d, which));
        }
        prop_assert_eq!(costs(&g, &d), unmemoised(&g, &d));
    }
}
