//! The bodies of the fuzz targets in `fuzz_targets/`, one function per input surface.
//!
//! Each takes the fuzzer's bytes, feeds them (as UTF-8 where the parser takes text; other
//! bytes are skipped) to the parser, and where the parse succeeds goes one cheap,
//! in-process step further, so that panics past the parser are found too. Any panic,
//! arithmetic overflow (the targets build with overflow checks) or allocation blow-up is a
//! bug in the library crate. The same functions run on the seed inputs in
//! `tests/seeds.rs` (stable, `cargo test --manifest-path fuzz/Cargo.toml`), so the targets
//! cannot rot unnoticed. See `docs/fuzzing.md`.

use std::path::Path;
use std::sync::OnceLock;

use xpusim_hw::{DeviceSpec, PimSpec, System};
use xpusim_ir::{DType, Graph, Phase, Precision};
use xpusim_models::Workload;
use xpusim_scalesim::Layer;
use xpusim_systolic::{ArrayConfig, Dataflow};
use xpusim_target::{evaluate, CostChoice, Target};

/// At most this many parsed items (layers, rows, points) are taken one step further, so a
/// long input cannot make one execution slow.
const FURTHER: usize = 4;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A small zoo decoder step (GPT-2, one decode step, batch 1, 64-token context), built once.
fn small_graph() -> &'static Graph {
    static G: OnceLock<Graph> = OnceLock::new();
    G.get_or_init(|| {
        xpusim_models::build("gpt-2", &Workload::new(Phase::Decode, 1, 16, 64))
            .expect("the zoo builds gpt-2")
    })
}

/// Small SCALE-Sim layers (a GEMM and a strided conv) to run a fuzzed `.cfg` on.
fn small_layers() -> &'static [Layer] {
    static L: OnceLock<Vec<Layer>> = OnceLock::new();
    L.get_or_init(|| {
        vec![
            Layer::gemm("gemm", 32, 24, 40).expect("a valid GEMM"),
            Layer::conv("conv", 12, 12, 3, 3, 4, 8, 2).expect("a valid conv"),
        ]
    })
}

/// A device TOML; a valid device prices a small zoo model with the analytical engine.
pub fn device_toml(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(dev) = DeviceSpec::from_toml("fuzz.toml", src) else {
        return;
    };
    let mut t = Target::device(dev);
    t.cost = CostChoice::Analytical;
    let _ = evaluate(small_graph(), &t);
}

/// A system TOML (its device and PIM memory by preset name or inline); a valid system
/// prices a small zoo model (sharding, collectives, PIM placement).
pub fn system_toml(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(sys) = System::from_toml("fuzz.toml", src, None) else {
        return;
    };
    let _ = sys.spec.nodes();
    if let Some(p) = &sys.pim {
        let _ = p.capacity_per_device_bytes();
    }
    let mut t = Target::system(sys);
    t.cost = CostChoice::Analytical;
    let _ = evaluate(small_graph(), &t);
}

/// A PIM memory TOML; a valid one prices a GEMV, decode attention and an embedding gather.
pub fn pim_toml(data: &[u8]) {
    use xpusim_pim::timing;
    let Some(src) = text(data) else { return };
    let Ok(s) = PimSpec::from_toml("fuzz.toml", src) else {
        return;
    };
    let _ = (
        s.pseudo_channels_per_stack(),
        s.units_per_stack(),
        s.tck_s(),
        s.module_capacity_bytes(),
    );
    for stacks in [1, s.organization.stacks] {
        let _ = timing::internal_bandwidth_bps(&s, stacks);
        let g = timing::Gemv {
            rows: 4096,
            cols: 4096,
            batch: 2,
            elem_bytes: 2,
            input_sets: 1,
        };
        let _ = timing::gemv(&s, stacks, &g);
        let _ = timing::embedding(&s, stacks, 8, 4096, 2);
    }
}

/// A device TOML with an `[array]` section: the NPU architecture view of it, its area and
/// level costs, and the mapping search on one small GEMM.
pub fn npu_arch(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(dev) = DeviceSpec::from_toml("fuzz.toml", src) else {
        return;
    };
    let Ok(arch) = xpusim_npu::NpuArch::from_device(&dev) else {
        return;
    };
    let _ = arch.leakage_w();
    let _ = arch.area(dev.natural_dtype);
    let _ = arch.mac_pj(dev.natural_dtype);
    for i in 0..arch.memory.len() {
        let _ = arch.level_cost(i);
        let _ = arch.instances(i);
    }
    let p = Precision::uniform(dev.natural_dtype);
    if let Ok(g) = xpusim_scalesim::topology_graph("fuzz", &small_layers()[..1], p) {
        let _ = xpusim_npu::map_graph(&g, &arch, xpusim_npu::Objective::Latency);
    }
}

/// A Hugging Face `config.json`; a valid one builds its graph for prefill and decode at a
/// small batch and sequence.
pub fn hf_config(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(m) = xpusim_hf::parse(src, Path::new("fuzz/config.json")) else {
        return;
    };
    let _ = m.config.build(&Workload::new(Phase::Prefill, 1, 16, 16));
    let _ = m.config.build(&Workload::new(Phase::Decode, 2, 1, 32));
}

/// A SCALE-Sim `.cfg`; a valid one runs small layers (compute report and, in CALC or USER
/// mode as the file says, the replayed memories) and becomes an NPU device.
pub fn scalesim_cfg(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(cfg) = xpusim_systolic::parse_config(src, Path::new("fuzz.cfg")) else {
        return;
    };
    let _ = cfg.ofmap_dram_bandwidth();
    for l in small_layers() {
        let _ = xpusim_systolic::simulate_compute(&cfg, l);
        // The memory replay is O(cycles); run it only on arrays that keep it short.
        if cfg.array_rows.saturating_mul(cfg.array_cols) <= 1 << 16 {
            let _ = xpusim_systolic::simulate_layer(&cfg, l);
        }
    }
    if let Ok(dev) = xpusim_npu::device_from_scalesim(&cfg) {
        let _ = xpusim_npu::NpuArch::from_device(&dev);
    }
}

/// A SCALE-Sim topology CSV (conv or GEMM form); its first layers get the closed-form
/// compute report on a CALC-mode 32×32 array in every dataflow, and the topology lowers to
/// IR.
pub fn scalesim_topology(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(layers) = xpusim_scalesim::parse_topology(src, Path::new("fuzz.csv"), None) else {
        return;
    };
    for l in layers.iter().take(FURTHER) {
        let _ = (
            l.ofmap_h(),
            l.ofmap_w(),
            l.ofmap_pixels(),
            l.window(),
            l.num_macs(),
        );
        for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
            let cfg = ArrayConfig::new(32, 32, df, [64, 64, 64]);
            let _ = xpusim_systolic::simulate_compute(&cfg, l);
        }
    }
    let _ = xpusim_scalesim::topology_graph("fuzz", &layers, Precision::uniform(DType::Bf16));
}

/// A validation CSV; the first rows are predicted as `xpusim validate` would.
pub fn validation_csv(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(rows) = xpusim_validate::parse("fuzz.csv", src) else {
        return;
    };
    let mut p = xpusim_validate::Predictor::default();
    for r in rows.iter().take(FURTHER) {
        let _ = p.predict(r);
    }
}

/// A sweep spec; a valid one enumerates its first points (and its last) and evaluates
/// the first.
pub fn sweep_spec(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let Ok(spec) = xpusim_sweep::SweepSpec::parse("fuzz.toml", src, Path::new("fuzz-no-such-dir"))
    else {
        return;
    };
    let n = spec.points();
    let _ = spec.fingerprint();
    for i in (0..n.min(FURTHER as u64)).chain([n.saturating_sub(1)]) {
        let _ = spec.coords(i);
    }
    if let Ok(ev) = xpusim_sweep::Evaluator::new(&spec) {
        let _ = ev.metric_columns();
        let _ = ev.eval(0);
    }
}

/// A `--seq-dist` value, inline and as a file; a small valid distribution packs GPT-2's
/// prefill and its FLOPs must equal the separate runs at each length.
pub fn seq_dist(data: &[u8]) {
    let Some(src) = text(data) else { return };
    let _ = xpusim_ir::SeqDist::parse_inline(src);
    let Ok(d) = xpusim_ir::SeqDist::parse_lines(src) else {
        return;
    };
    // Keep one execution cheap: a few short lengths (GPT-2 has 1024 positions).
    if d.bins().len() > FURTHER || d.max_len() > 1024 || d.sequences() > 64 {
        return;
    }
    let build = |batch: u64, seq: u64| {
        xpusim_models::build("gpt-2", &Workload::new(Phase::Prefill, batch, seq, 0))
            .map_err(|e| xpusim_ir::VarlenError::Read {
                path: "gpt-2".into(),
                msg: e.to_string(),
            })
    };
    let Ok(packed) = Graph::pack_varlen(&d, build) else {
        return;
    };
    let separate: u64 = d
        .bins()
        .iter()
        .filter_map(|&(len, count)| build(count, len).ok())
        .map(|g| g.totals().flops)
        .sum();
    assert_eq!(packed.totals().flops, separate, "packing changed the FLOPs");
}
