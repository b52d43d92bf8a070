//! `serve --slo`: the highest request rate meeting latency-percentile bounds, with every
//! rate the search simulated.

use anyhow::Result;
use xpusim_serve::{Capacity, Metrics};

use crate::args::Format;
use crate::format;
use crate::serve::ServeArgs;

pub fn print(a: &ServeArgs, hardware: &str, cap: &Capacity, best: Option<&Metrics>) -> Result<()> {
    let bounds: Vec<String> = cap
        .targets
        .iter()
        .map(|t| format!("{} ≤ {}", t.key(), format::time(t.limit_s)))
        .collect();
    match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "model": a.model,
                "hardware": hardware,
                "requests_per_probe": a.requests,
                "input_tokens": a.input_tokens,
                "output_tokens": a.output_tokens,
                "seed": a.seed,
                "slo": cap.targets,
                "max_rate_per_s": cap.max_rate_per_s,
                "unbounded": cap.unbounded,
                "probes": cap.probes,
                "metrics_at_max_rate": best,
            });
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Csv => {
            let keys: Vec<String> = cap
                .targets
                .iter()
                .map(|t| format!("{}_s", t.key()))
                .collect();
            outln!("rate_per_s,{},meets_slo", keys.join(","));
            for p in &cap.probes {
                let vals: Vec<String> = p.values_s.iter().map(|v| format!("{v:e}")).collect();
                outln!("{},{},{}", p.rate_per_s, vals.join(","), p.met);
            }
        }
        Format::Table => {
            outln!(
                "{} on {hardware}: highest Poisson rate with {} ({} requests a probe, in {}, \
                 out {}, seed {})",
                a.model,
                bounds.join(", "),
                a.requests,
                a.input_tokens,
                a.output_tokens,
                a.seed
            );
            let mut t = format::table();
            let mut header = vec!["probe".to_string(), "rate (req/s)".to_string()];
            header.extend(cap.targets.iter().map(|t| t.key()));
            header.push("meets SLO".into());
            t.set_header(header);
            for (i, p) in cap.probes.iter().enumerate() {
                let mut r = vec![(i + 1).to_string(), format!("{:.4}", p.rate_per_s)];
                r.extend(p.values_s.iter().map(|v| format::time(*v)));
                r.push(if p.met { "yes" } else { "no" }.into());
                t.add_row(r);
            }
            outln!("{t}");
            let answer = match (cap.max_rate_per_s, best) {
                (Some(r), Some(m)) => format!(
                    "{}{r:.4} req/s (within {:.0}%): {:.0} output tok/s, {} per output token",
                    if cap.unbounded { "at least " } else { "" },
                    xpusim_serve::capacity::RATE_TOLERANCE * 100.0,
                    m.output_tokens_per_s,
                    format::si(m.energy_per_output_token_j, "J"),
                ),
                _ => format!(
                    "none: the SLO is missed even at {} req/s, where requests run alone; \
                     relax it or use faster hardware",
                    xpusim_serve::capacity::MIN_RATE_PER_S
                ),
            };
            outln!(
                "{}",
                format::wrap(&format!("highest rate meeting the SLO: {answer}"))
            );
        }
    }
    Ok(())
}
