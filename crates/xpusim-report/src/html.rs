//! The self-contained HTML report of a flip analysis: verdicts, tables, inline SVG charts.

use std::fmt::Write;

use xpusim_flip::{Analysis, Evaluation, Scenario, Year};

use crate::charts::{self, RoofPoint, ScatterPoint};
use crate::ReportError;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

pub(crate) const STYLE: &str =
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}\
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}\
td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}\
li{margin:.3em 0}.front{font-weight:bold;color:#b00}figure{margin:1.5em 0}\
figcaption{font-size:13px;color:#555}";

pub(crate) fn table(out: &mut String, id: &str, head: &[String], rows: &[Vec<String>]) {
    let _ = write!(out, "<table id=\"{id}\"><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

pub(crate) fn figure(out: &mut String, id: &str, svg: &str, caption: &str) {
    let _ = writeln!(
        out,
        "<figure id=\"{id}\">{svg}<figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}

/// Designs whose ops get a roofline and a breakdown: the best-ranked design and every
/// design that sends work to a host (at most three).
fn focus(a: &Analysis, ev: &Evaluation, ranking: &[usize]) -> Vec<usize> {
    let mut f: Vec<usize> = ranking.iter().take(1).copied().collect();
    for (i, &d) in a.designs.iter().enumerate() {
        let partial = ev.cells[d]
            .iter()
            .any(|c| c.coverage.native_flops_frac() < 1.0);
        if partial && !f.contains(&i) {
            f.push(i);
        }
    }
    f.truncate(3);
    f
}

fn design_charts(
    out: &mut String,
    a: &Analysis,
    ev: &Evaluation,
    i: usize,
) -> Result<(), ReportError> {
    let d = a.designs[i];
    let spec = ev.designs[d].spec();
    let peak = spec.matrix_flops(spec.natural_dtype).0;
    let bw = spec.offchip().sustained_bps();
    let mut pts = Vec::new();
    let mut rows = Vec::new();
    for (w, cell) in ev.cells[d].iter().enumerate() {
        let mut parts: Vec<(String, f64)> = Vec::new();
        for op in cell.cost.iter().flat_map(|c| &c.ops) {
            if op.flops > 0 && op.bytes > 0 && op.time_s > 0.0 {
                pts.push(RoofPoint {
                    group: ev.eras[w].to_string(),
                    intensity: op.flops as f64 / op.bytes as f64,
                    flops_per_s: op.flops as f64 / op.time_s,
                });
            }
            let cat = if op.mapping.starts_with("on ") && op.mapping.contains("not native") {
                "host fallback".to_string()
            } else {
                op.kind.clone()
            };
            match parts.iter_mut().find(|p| p.0 == cat) {
                Some(p) => p.1 += op.time_s,
                None => parts.push((cat, op.time_s)),
            }
        }
        rows.push((ev.workloads[w].clone(), parts));
    }
    let name = &a.names[i];
    let svg = charts::roofline(
        &format!("Roofline: {name}, every op of the era suite"),
        peak,
        bw,
        &pts,
    )?;
    figure(
        out,
        &format!("roofline-{name}"),
        &svg,
        &format!(
            "Each dot is one op (all repeats) at its FLOPs per compulsory byte and achieved FLOP/s on {name}; the roof is the {} matrix peak and sustained off-chip bandwidth.",
            spec.natural_dtype
        ),
    );
    let svg = charts::breakdown(&format!("Where the time goes on {name}"), &rows)?;
    figure(
        out,
        &format!("breakdown-{name}"),
        &svg,
        "Share of each workload's time per op family; 'host fallback' is time on the host CPU plus link transfers for ops this design cannot run.",
    );
    Ok(())
}

/// The whole report as one HTML document.
pub fn flip_report(
    ev: &Evaluation,
    a: &Analysis,
    scenarios: &[Scenario],
    timeline: &[Year],
    verdicts: &[String],
) -> Result<String, ReportError> {
    let ranking = xpusim_flip::summary::ranking(a);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>xpusim flip report</title><style>{STYLE}</style></head><body>\n<h1>Does the chip still win when the models change?</h1>\n<p>Efficiency = {} relative to the best design for each era (100% = best). {} designs × {} workloads.</p>\n",
        esc(a.metric.describe()),
        a.names.len(),
        ev.workloads.len()
    );
    // What each design is, and how designs of different sizes are compared.
    o.push_str("<h2>Designs</h2>\n");
    let rows: Vec<Vec<String>> = ev
        .designs
        .iter()
        .map(|d| {
            vec![
                d.name.clone(),
                d.display_name.clone(),
                d.kind.to_string(),
                d.count.to_string(),
                d.spec().name.clone(),
            ]
        })
        .collect();
    table(
        &mut o,
        "designs",
        &[
            "design".into(),
            "description".into(),
            "kind".into(),
            "devices".into(),
            "device".into(),
        ],
        &rows,
    );
    o.push_str("<p id=\"normalisation\">Designs of different sizes are compared per device: throughput is samples per second per device, energy is per sample with every device's static power, and TCO per sample counts every device (a system's PIM memory priced per GB as its device's memory). A system runs each workload with the smallest tensor-parallel group that holds the model and data-parallel replicas on the rest of its devices; a single device too small for a model counts the devices it would need.</p>\n");
    o.push_str("<h2>Verdicts</h2><ul id=\"verdicts\">");
    for v in verdicts {
        let _ = write!(o, "<li>{}</li>", esc(v));
    }
    o.push_str("</ul>\n<h2>Ranking</h2>\n");
    let mut head = vec!["#".to_string(), "design".into()];
    head.extend(a.eras.iter().cloned());
    head.extend([
        "worst".into(),
        "geomean".into(),
        "max regret".into(),
        "Pareto".into(),
    ]);
    let rows: Vec<Vec<String>> = ranking
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            let mut r = vec![(k + 1).to_string(), a.names[d].clone()];
            r.extend(a.era_eff[d].iter().map(|v| pct(*v)));
            r.push(format!("{} ({})", pct(a.worst[d].0), a.worst[d].1));
            r.push(pct(a.geomean[d]));
            r.push(format!(
                "{} ({})",
                pct(a.max_regret[d].0),
                a.max_regret[d].1
            ));
            r.push(if a.pareto[d] {
                "yes".into()
            } else {
                String::new()
            });
            r
        })
        .collect();
    table(&mut o, "ranking", &head, &rows);
    let names: Vec<String> = ranking.iter().map(|d| a.names[*d].clone()).collect();
    let vals: Vec<Vec<f64>> = ranking.iter().map(|d| a.era_eff[*d].clone()).collect();
    let svg = charts::heatmap(
        "Era × design: efficiency relative to the era's best",
        &names,
        &a.eras,
        &vals,
    )?;
    figure(
        &mut o,
        "heatmap",
        &svg,
        "Yellow = the best design for that era; dark purple = far behind it (viridis, readable with any colour vision).",
    );
    let pts: Vec<ScatterPoint> = (0..a.names.len())
        .map(|d| ScatterPoint {
            label: a.names[d].clone(),
            x: a.worst[d].0,
            y: a.geomean[d],
            highlight: a.pareto[d],
        })
        .collect();
    let svg = charts::scatter(
        "Generality vs average: vermillion = on the Pareto front across scenarios",
        "worst era (% of that era's best)",
        "geometric mean over eras (%)",
        &pts,
    )?;
    figure(&mut o, "pareto", &svg, "Designs up and to the right win whatever the mix; vermillion designs are not beaten in every scenario by any other.");

    o.push_str("<h2>Scenarios</h2>\n");
    let mut head = vec!["design".to_string()];
    head.extend(scenarios.iter().map(|s| format!("regret: {}", s.name)));
    let rows: Vec<Vec<String>> = ranking
        .iter()
        .map(|&d| {
            let mut r = vec![a.names[d].clone()];
            r.extend(a.scenarios.iter().map(|s| pct(s.regret[d])));
            r
        })
        .collect();
    table(&mut o, "regret", &head, &rows);
    let rows: Vec<Vec<String>> = scenarios
        .iter()
        .map(|s| {
            let mix: Vec<String> = s
                .mix
                .iter()
                .map(|(e, w)| format!("{e} {}", pct(*w)))
                .collect();
            vec![s.name.clone(), mix.join(", "), s.note.clone()]
        })
        .collect();
    table(
        &mut o,
        "scenario-mixes",
        &["scenario".into(), "mix".into(), "note".into()],
        &rows,
    );

    if let Some(l) = &a.lifetime {
        let _ = writeln!(
            o,
            "<h2>Lifetime value {}–{}</h2><p>Work per TCO dollar over the timeline (work in reference-seconds: one second of the fastest design's work per device on that workload). 'Frozen years to beat {}' = how long the {} mix must hold for the design to match the most general costed design.</p>",
            l.first_year,
            l.first_year + l.years as i64 - 1,
            esc(&a.names[l.designs[l.general]]),
            l.first_year
        );
        let mut order: Vec<usize> = (0..l.designs.len()).collect();
        order.sort_by(|x, y| l.value[*y].total_cmp(&l.value[*x]));
        let rows: Vec<Vec<String>> = order
            .iter()
            .map(|&j| {
                vec![
                    a.names[l.designs[j]].clone(),
                    pct(l.value_rel[j]),
                    format!("{:.0}", l.tco_usd[j]),
                    match l.freeze_to_beat_general[j] {
                        Some(k) => format!("{k}"),
                        None => "never".into(),
                    },
                ]
            })
            .collect();
        let g = &a.names[l.designs[l.general]];
        table(
            &mut o,
            "lifetime",
            &[
                "design".into(),
                "lifetime value (% of best)".into(),
                "TCO $".into(),
                format!("frozen years to beat {g}"),
            ],
            &rows,
        );
        let rows: Vec<Vec<String>> = timeline
            .iter()
            .map(|y| {
                let mix: Vec<String> = y
                    .mix
                    .iter()
                    .map(|(e, w)| format!("{e} {}", pct(*w)))
                    .collect();
                vec![y.year.to_string(), mix.join(", ")]
            })
            .collect();
        table(&mut o, "timeline", &["year".into(), "mix".into()], &rows);
    }

    o.push_str("<h2>Native coverage</h2><p>Share of each workload's FLOPs a design runs natively (the rest runs on its host over the link).</p>\n");
    let mut head = vec!["design".to_string()];
    head.extend(ev.workloads.iter().cloned());
    let rows: Vec<Vec<String>> = a
        .designs
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let mut r = vec![a.names[i].clone()];
            r.extend(
                ev.cells[d]
                    .iter()
                    .map(|c| pct(c.coverage.native_flops_frac())),
            );
            r
        })
        .collect();
    table(&mut o, "coverage", &head, &rows);

    o.push_str("<h2>Where the time goes</h2>\n");
    for i in focus(a, ev, &ranking) {
        design_charts(&mut o, a, ev, i)?;
    }
    if !a.excluded.is_empty() {
        o.push_str("<h2>Not ranked</h2><ul>");
        for (n, why) in &a.excluded {
            let _ = write!(o, "<li>{}: {}</li>", esc(n), esc(why));
        }
        o.push_str("</ul>");
    }
    o.push_str("<p><small>Generated by xpusim flip.</small></p></body></html>\n");
    Ok(o)
}
