//! Runs every layer of a SCALE-Sim topology on a SCALE-Sim config and prints one JSON report
//! per line: `cargo run -p xpusim-systolic --example simulate -- <config.cfg> <topology.csv>`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(cfg), Some(topo)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: simulate <config.cfg> <topology.csv>");
        return ExitCode::FAILURE;
    };
    let cfg = match xpusim_systolic::load_config(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let layers = match xpusim_systolic::load_topology(topo) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for layer in &layers {
        let report = xpusim_systolic::simulate_layer(&cfg, layer);
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
