//! Maps a zoo model onto an NPU preset and prints the chosen mapping per op.
//! `cargo run -p xpusim-npu --example map_model -- resnet-50 furiosa-rngd latency`

use xpusim_ir::{DType, Phase, Precision};
use xpusim_npu::{map_graph, NpuArch, Objective};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = args.first().map_or("resnet-50", String::as_str);
    let arch = NpuArch::load(args.get(1).map_or("furiosa-rngd", String::as_str))?;
    let obj = args
        .get(2)
        .and_then(|s| Objective::parse(s))
        .unwrap_or(Objective::Latency);
    let wl = xpusim_models::Workload {
        phase: Phase::Inference,
        batch: 1,
        seq_len: 128,
        context: 0,
        precision: Precision::uniform(DType::Bf16),
        image_size: None,
    };
    let g = xpusim_models::build(model, &wl)?;
    let t0 = std::time::Instant::now();
    let m = map_graph(&g, &arch, obj)?;
    let dt = t0.elapsed();
    for o in &m.ops {
        println!(
            "{:<28} {:>3} rows {:<10} cols {:<6} time {:<8} split {:<6} cycles {:>9} util {:>5.1}% E {:>10.3e} pJ tiles {:?}",
            o.op,
            o.dataflow.name(),
            o.rows,
            o.cols,
            o.time,
            o.core_split,
            o.latency_cycles,
            100.0 * o.utilization,
            o.energy.total_pj,
            o.levels.iter().map(|l| (l.tile, l.order.clone())).collect::<Vec<_>>()
        );
    }
    println!(
        "{} ops mapped in {:?}; latency {:.3} ms, energy {:.3} mJ",
        m.ops.len(),
        dt,
        m.latency_s * 1e3,
        m.energy_j * 1e3
    );
    Ok(())
}
