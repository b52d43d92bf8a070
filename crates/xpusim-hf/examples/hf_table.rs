//! Prints parameters and decode/prefill totals of every config.json given on the command
//! line (or of the test fixtures).
use std::path::PathBuf;

use xpusim_ir::Phase;
use xpusim_models::Workload;

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        paths = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
    }
    for p in paths {
        match xpusim_hf::load(&p) {
            Ok(m) => {
                let ph = m.config.phases()[0];
                let g = m.config.build(&Workload::new(ph, 1, 1024, 512));
                match g {
                    Ok(g) => {
                        let t = g.totals();
                        println!(
                            "{:28} {:12} params {:>10.4} B active {:>9.4} B  {} ops {:>10.2} GFLOP",
                            p.file_name().unwrap().to_string_lossy(),
                            m.model_type,
                            t.params as f64 / 1e9,
                            t.active_params as f64 / 1e9,
                            ph.name(),
                            t.flops as f64 / 1e9
                        );
                        if ph != Phase::Inference {
                            let d = m
                                .config
                                .build(&Workload::new(Phase::Decode, 1, 1, 512))
                                .unwrap();
                            println!(
                                "{:41} decode ops {} kv MB {:.1}",
                                "",
                                d.ops.len(),
                                d.totals().kv_cache_bytes as f64 / 1e6
                            );
                        }
                    }
                    Err(e) => println!("{}: {e}", p.display()),
                }
            }
            Err(e) => println!("{e}"),
        }
    }
}
