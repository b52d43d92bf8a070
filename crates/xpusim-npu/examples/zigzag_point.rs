//! Prints xpusim's mapper results for a SCALE-Sim topology CSV on a device with an `[array]`
//! section (preset name or device TOML path), as
//! JSON, for `tools/zigzag/compare.py` (which runs ZigZag on the same layers and hardware).
//!
//! `cargo run -p xpusim-npu --release --example zigzag_point -- DEVICE TOPOLOGY.csv [latency|energy|edp] [dtype]`

use std::time::Instant;

use xpusim_ir::{DType, Precision};
use xpusim_npu::{map_problem, NpuArch, Objective, Problem};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [arch, topo, rest @ ..] = args.as_slice() else {
        return Err("usage: zigzag_point DEVICE TOPOLOGY.csv [objective] [dtype]".into());
    };
    let arch = NpuArch::load(arch)?;
    let obj = match rest.first() {
        Some(s) => Objective::parse(s).ok_or(format!("unknown objective `{s}`"))?,
        None => Objective::Latency,
    };
    let dtype = DType::parse(rest.get(1).map_or("bf16", String::as_str))?;
    let layers = xpusim_systolic::load_topology(topo)?;
    let mut out = Vec::new();
    for l in &layers {
        let op = xpusim_scalesim::layer_op(l, Precision::uniform(dtype))?;
        let pbs = Problem::from_op(&op)?;
        let t0 = Instant::now();
        let m = map_problem(&pbs[0], &arch, dtype, obj)?;
        let search_s = t0.elapsed().as_secs_f64();
        out.push(serde_json::json!({
            "name": l.name,
            "macs": m.macs,
            "latency_cycles": m.latency_cycles,
            "compute_cycles": m.compute_cycles,
            "energy_pj": m.energy.total_pj,
            "mac_pj": m.energy.mac_pj,
            "registers_pj": m.energy.registers_pj,
            "levels_pj": m.energy.levels_pj,
            "traffic_bytes": m.traffic_bytes,
            "dataflow": m.dataflow.name(),
            "rows": m.rows,
            "cols": m.cols,
            "time": m.time,
            "tiles": m.levels.iter().map(|x| (x.tile, x.order.clone())).collect::<Vec<_>>(),
            "search_s": search_s,
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
