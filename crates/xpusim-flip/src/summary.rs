//! The text summary: a ranked table and one-line verdicts, readable at a glance.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::analysis::Analysis;
use crate::eval::Evaluation;

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// Design order: by worst-case regret, then by geometric mean.
pub fn ranking(a: &Analysis) -> Vec<usize> {
    let mut order: Vec<usize> = (0..a.names.len()).collect();
    order.sort_by(|x, y| {
        a.max_regret[*x]
            .0
            .total_cmp(&a.max_regret[*y].0)
            .then(a.geomean[*y].total_cmp(&a.geomean[*x]))
    });
    order
}

/// Era abbreviations for narrow table headers.
fn short(era: &str) -> &str {
    match era {
        "llm-prefill" => "prefill",
        "llm-decode" => "decode",
        "diffusion" => "diffus.",
        "encoder-train" => "enc-train",
        e => e,
    }
}

/// The ranked table: per era efficiency, worst, geomean, max regret, Pareto, lifetime.
pub fn table(a: &Analysis) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut h: Vec<String> = vec!["#".into(), "design".into()];
    h.extend(a.eras.iter().map(|e| short(e).to_string()));
    h.extend([
        "worst".into(),
        "geomean".into(),
        "max regret".into(),
        "pareto".into(),
    ]);
    if a.lifetime.is_some() {
        h.push("life work/$".into());
    }
    t.set_header(h);
    for (rank, d) in ranking(a).into_iter().enumerate() {
        let mut r = vec![(rank + 1).to_string(), a.names[d].clone()];
        r.extend(a.era_eff[d].iter().map(|v| pct(*v)));
        r.push(format!("{} {}", pct(a.worst[d].0), short(&a.worst[d].1)));
        r.push(pct(a.geomean[d]));
        r.push(format!(
            "{} ({})",
            pct(a.max_regret[d].0),
            a.max_regret[d].1
        ));
        r.push(if a.pareto[d] { "●".into() } else { "".into() });
        if let Some(l) = &a.lifetime {
            r.push(match l.designs.iter().position(|x| *x == d) {
                Some(j) => pct(l.value_rel[j]),
                None => "n/a".into(),
            });
        }
        t.add_row(r);
    }
    t
}

/// One line per finding.
pub fn verdicts(a: &Analysis, ev: &Evaluation) -> Vec<String> {
    let mut v = Vec::new();
    let best: Vec<String> = a
        .scenarios
        .iter()
        .map(|s| format!("{} → {}", s.name, s.best))
        .collect();
    if !best.is_empty() {
        v.push(format!("Best per scenario: {}.", best.join(" · ")));
    }
    for s in &a.scenarios {
        let Some(w) = &s.without_training else {
            continue;
        };
        let head = format!(
            "With training: in `{}` ({} of demand training)",
            s.name,
            pct(w.training_share)
        );
        v.push(if w.best == s.best {
            format!(
                "{head}, {} is the best design for the rest of the mix alone and stays the best with training.",
                s.best
            )
        } else {
            format!(
                "{head}, {} would be the best design for the rest of the mix alone; with training {} wins and {} reaches {} of its score.",
                w.best,
                s.best,
                w.best,
                pct(w.score)
            )
        });
    }
    let order = ranking(a);
    if let Some(&r) = order.first().filter(|r| a.max_regret[**r].0 <= 0.0) {
        v.push(format!(
            "Most robust: {} — the best design in every scenario.",
            a.names[r]
        ));
    } else if let Some(&r) = order.first() {
        v.push(format!(
            "Most robust: {} — never more than {} behind the best design of any scenario (worst: {}).",
            a.names[r],
            pct(a.max_regret[r].0),
            a.max_regret[r].1
        ));
    }
    if let Some(g) = (0..a.names.len()).max_by(|x, y| a.worst[*x].0.total_cmp(&a.worst[*y].0)) {
        v.push(format!(
            "Most general: {} — its weakest era ({}) still reaches {} of that era's best.",
            a.names[g],
            a.worst[g].1,
            pct(a.worst[g].0)
        ));
    }
    let front: Vec<&str> = (0..a.names.len())
        .filter(|d| a.pareto[*d])
        .map(|d| a.names[d].as_str())
        .collect();
    if !a.scenarios.is_empty() {
        v.push(format!(
            "Pareto across scenarios: {} (every other design is beaten in every scenario by one of these).",
            front.join(", ")
        ));
    }
    for (i, &d) in a.designs.iter().enumerate() {
        let host: Vec<String> = ev
            .workloads
            .iter()
            .zip(&ev.cells[d])
            .filter(|(_, c)| c.coverage.native_flops_frac() < 1.0)
            .map(|(w, c)| format!("{w} {}", pct(c.coverage.native_flops_frac())))
            .collect();
        if !host.is_empty() {
            v.push(format!(
                "Missing generality: {} runs natively only this share of the FLOPs of {} (the rest on its host over the link).",
                a.names[i],
                host.join(", ")
            ));
        }
    }
    for (w, label) in ev.workloads.iter().enumerate() {
        let over: Vec<String> = a
            .designs
            .iter()
            .filter_map(|&d| {
                let c = &ev.cells[d][w];
                let t = c.train.as_ref()?;
                (c.devices > t.devices)
                    .then(|| format!("{} ×{}", ev.designs[d].name, c.devices / t.devices.max(1)))
            })
            .collect();
        if !over.is_empty() {
            v.push(format!(
                "Training memory: no layout of {label} fits on {} — each counted as that many times its devices (the TCO, the extra devices' idle power, and the one-device step rate shared among them); a system design prices a real data-parallel layout.",
                over.join(", ")
            ));
        }
    }
    if let Some(l) = &a.lifetime {
        let s = l.designs[l.specialised];
        let g = l.designs[l.general];
        let last = l.first_year + l.years as i64 - 1;
        if s == g {
            v.push(format!(
                "Lifetime {}–{}: {} is both the best buy for the {} mix and the most general design — no specialisation trade-off among the costed designs.",
                l.first_year, last, a.names[s], l.first_year
            ));
        } else {
            let k = l.freeze_to_beat_general[l.specialised];
            let tail = match k {
                Some(1) => "even as the mix shifts along the timeline".to_string(),
                Some(k) => format!(
                    "only if the {} mix stays frozen for at least {k} of {} years",
                    l.first_year, l.years
                ),
                None => format!(
                    "never within {} years, even if the {} mix never changes",
                    l.years, l.first_year
                ),
            };
            v.push(format!(
                "Specialise or generalise ({}–{}): {} (best for the {} mix) beats {} (most general costed design) on work per TCO dollar {tail}.",
                l.first_year, last, a.names[s], l.first_year, a.names[g]
            ));
        }
        for (j, &d) in l.designs.iter().enumerate() {
            let partial = ev.cells[a.designs[d]]
                .iter()
                .any(|c| c.coverage.native_flops_frac() < 1.0);
            if !partial || j == l.general || j == l.specialised {
                continue;
            }
            let tail = match l.freeze_to_beat_general[j] {
                Some(1) => "matches it even as the mix shifts".to_string(),
                Some(k) => format!(
                    "needs the {} mix frozen for {k} of {} years to match it",
                    l.first_year, l.years
                ),
                None => format!(
                    "never matches it within {} years, even if the {} mix never changes",
                    l.years, l.first_year
                ),
            };
            v.push(format!(
                "ASIC question: {} (partial native coverage) vs {} (most general costed design): on work per TCO dollar it {tail}.",
                a.names[d], a.names[g]
            ));
        }
        let top = (0..l.designs.len()).max_by(|x, y| l.value[*x].total_cmp(&l.value[*y]));
        if let Some(j) = top {
            v.push(format!(
                "Best lifetime value over the timeline: {} (TCO ${:.0}k over {} years).",
                a.names[l.designs[j]],
                l.tco_usd[j] / 1e3,
                l.years
            ));
        }
    }
    if !a.excluded.is_empty() {
        let names: Vec<&str> = a.excluded.iter().map(|(n, _)| n.as_str()).collect();
        v.push(format!(
            "Not ranked by {} (no die area, node or memory price to cost it, and no list price): {} — use --metric energy to include them.",
            a.metric.describe(),
            names.join(", ")
        ));
    }
    v
}
