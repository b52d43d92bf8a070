//! Time to evaluate each zoo model on each preset (target: < 1 ms per (model, device) up to
//! Llama-70B decode). Graph construction is timed separately from costing.

use xpusim_hw::{find_preset, preset_names};
use xpusim_ir::{Phase, Precision};
use xpusim_models::{build, catalog, Workload};
use xpusim_target::{evaluate, Target};

fn main() {
    divan::main();
}

fn workloads() -> Vec<String> {
    let mut v = Vec::new();
    for m in catalog() {
        for p in m.phases {
            v.push(format!("{}:{}", m.name, p.name()));
        }
    }
    v
}

fn graph(key: &str, dev: &xpusim_hw::DeviceSpec) -> xpusim_ir::Graph {
    let (name, phase) = key.split_once(':').unwrap_or((key, "inference"));
    let info = xpusim_models::find(name).unwrap();
    let phase = match phase {
        "prefill" => Phase::Prefill,
        "decode" => Phase::Decode,
        _ => Phase::Inference,
    };
    let w = Workload {
        phase,
        batch: if phase == Phase::Decode {
            8
        } else {
            info.default_batch
        },
        seq_len: info.default_seq_len,
        context: 2048,
        precision: Precision::uniform(dev.natural_dtype),
        image_size: None,
    };
    build(info.name, &w).unwrap()
}

#[divan::bench(args = workloads())]
fn evaluate_on_every_preset(bencher: divan::Bencher, key: &str) {
    let devs: Vec<_> = preset_names()
        .iter()
        .map(|n| Target::device(find_preset(n).unwrap()))
        .collect();
    let graphs: Vec<_> = devs.iter().map(|t| graph(key, t.device_spec())).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(devs.len()))
        .bench(|| {
            for (g, d) in graphs.iter().zip(&devs) {
                divan::black_box(evaluate(g, d).unwrap());
            }
        });
}

#[divan::bench(args = workloads())]
fn build_graph(key: &str) -> xpusim_ir::Graph {
    let dev = find_preset("h100-sxm").unwrap();
    graph(key, &dev)
}
