//! Prints the AttAcc reproduction table (the CLI's `xpusim attacc` shows the same).
fn main() -> Result<(), xpusim_pim::PimError> {
    for r in xpusim_pim::attacc::sweep("dgx-a100-attacc", xpusim_pim::attacc::BATCHES)? {
        println!(
            "batch {:4}: pim {:8.1} tok/s {:6.3} J/tok (host {:.2} ms pim {:.2} ms link {:.2} ms) | gpu {:8.1} tok/s {:6.3} J/tok | thr x{:.2} energy x{:.2} fits {}",
            r.batch, r.pim.tokens_per_s, r.pim.energy_per_token_j, r.pim.host_s * 1e3, r.pim.pim_s * 1e3, r.pim.link_s * 1e3,
            r.gpu.tokens_per_s, r.gpu.energy_per_token_j, r.throughput_ratio, r.energy_ratio, r.fits
        );
        if std::env::var("BREAKDOWN").is_ok() {
            for (n, c) in [("pim", &r.pim), ("gpu", &r.gpu)] {
                for o in &c.ops {
                    println!(
                        "  {n} {:40} {:10} x{:3} {:8.3} ms pim={} alt={:?}",
                        o.name,
                        o.kind,
                        o.repeat,
                        o.time_s * 1e3,
                        o.on_pim,
                        o.pim_time_s.map(|t| t * 1e3)
                    );
                }
            }
        }
    }
    Ok(())
}

#[allow(dead_code)]
fn breakdown() {}
