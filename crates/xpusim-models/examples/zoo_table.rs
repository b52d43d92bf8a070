//! Prints every built-in model's parameters, MACs and op count for its default workload.
use xpusim_ir::Phase;
use xpusim_models::{build, catalog, Workload};

fn main() {
    for m in catalog() {
        for &ph in m.phases {
            let w = Workload::new(ph, 1, m.default_seq_len, 512);
            match build(m.name, &w) {
                Ok(g) => {
                    let t = g.totals();
                    println!(
                        "{:14} {:9} params {:>9.4} M active {:>9.4} M  MACs {:>12.4} G  flops {:>12.4} G  kv {:>10.3} MB ops {}",
                        m.name,
                        ph.name(),
                        t.params as f64 / 1e6,
                        t.active_params as f64 / 1e6,
                        t.macs as f64 / 1e9,
                        t.flops as f64 / 1e9,
                        t.kv_cache_bytes as f64 / 1e6,
                        g.ops.len()
                    );
                }
                Err(e) => println!("{:14} {:9} ERROR {e}", m.name, ph.name()),
            }
            if ph == Phase::Inference {
                break;
            }
        }
    }
}
