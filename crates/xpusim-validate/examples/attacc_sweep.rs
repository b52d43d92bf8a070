//! Prints the AttAcc reproduction table (the CLI's `xpusim attacc` shows the same).
use xpusim_validate::attacc;

fn main() -> Result<(), attacc::AttaccError> {
    for r in attacc::sweep("dgx-a100-attacc", attacc::BATCHES)? {
        println!(
            "batch {:4}: pim {:8.1} tok/s {:6.3} J/tok (host {:.2} ms pim {:.2} ms link {:.2} ms) | gpu {:8.1} tok/s {:6.3} J/tok | thr x{:.2} energy x{:.2} fits {}",
            r.batch, r.pim_tok_s, r.pim_j_per_tok, r.pim.pim.as_ref().map_or(0.0, |p| p.host_s) * 1e3, r.pim.pim.as_ref().map_or(0.0, |p| p.pim_s) * 1e3, r.pim.pim.as_ref().map_or(0.0, |p| p.link_s) * 1e3,
            r.gpu_tok_s, r.gpu_j_per_tok, r.throughput_ratio, r.energy_ratio, r.fits
        );
        if std::env::var("BREAKDOWN").is_ok() {
            for (n, c) in [("pim", &r.pim), ("gpu", &r.gpu)] {
                for o in &c.ops {
                    println!(
                        "  {n} {:40} {:10} x{:3} {:8.3} ms pim share {:?}",
                        o.name,
                        o.kind,
                        o.repeat,
                        o.time_s * 1e3,
                        o.pim_fraction
                    );
                }
            }
        }
    }
    Ok(())
}
