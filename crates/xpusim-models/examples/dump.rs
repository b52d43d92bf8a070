//! Prints the ops of one model/phase: `cargo run --example dump -- llama-2-7b decode`.
use xpusim_ir::Phase;
use xpusim_models::{build, find, Workload};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("llama-2-7b", String::as_str);
    let phase = match args.get(2).map(String::as_str) {
        Some("decode") => Phase::Decode,
        Some("prefill") => Phase::Prefill,
        _ => find(name).expect("model").phases[0],
    };
    let g = build(name, &Workload::new(phase, 4, 512, 1024)).unwrap_or_else(|e| panic!("{e}"));
    for op in &g.ops {
        println!(
            "{:44} {:13} x{:<3} MAC {:>14} vecF {:>12} bytes {:>12}",
            op.name,
            op.kind.family(),
            op.repeat,
            op.macs(),
            op.vector_flops(),
            op.bytes_total()
        );
    }
}
