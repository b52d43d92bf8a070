//! Text and Markdown renderings of a [`Report`].

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::render_text::{
    DATASETS_MD, POWER_INTRO_MD, POWER_MD, PROTOCOL_MD, TRAINING_INTRO_MD, TRAINING_MD,
};
use crate::report::{Report, Stats};
use crate::split::SplitFile;

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.1}"))
}

fn stats_line(name: &str, s: &Stats, protocol: bool) -> String {
    if protocol {
        return format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.n,
            pct(s.in_distribution_mape_pct),
            pct(s.cross_source_mape_pct),
            pct(s.uncalibrated_mape_pct),
            pct(s.median_abs_pct),
            pct(s.max_abs_pct),
            pct(s.bias_pct),
            s.fit_n,
            pct(s.fit_mape_pct),
            s.skipped
        );
    }
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
        s.n,
        pct(s.mape_pct),
        pct(s.median_abs_pct),
        pct(s.max_abs_pct),
        pct(s.bias_pct),
        s.fit_n,
        pct(s.fit_mape_pct),
        s.skipped
    )
}

const HEAD: &str = "| category | held-out rows | MAPE % | median abs % | max abs % | bias % | fit rows | fit MAPE % | skipped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|";

/// The table head under the protocol: held-out MAPE split into in-distribution and
/// cross-source, and the same rows uncalibrated.
const PROTOCOL_HEAD: &str = "| category | held-out rows | in-distribution MAPE % | cross-source MAPE % | uncalibrated MAPE % | median abs % | max abs % | bias % | fit rows | fit MAPE % | skipped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

/// Whether the report carries the protocol's figures (a split, or uncalibrated errors).
pub fn has_protocol(r: &Report) -> bool {
    r.rows
        .iter()
        .any(|x| x.split.is_some() || x.uncalibrated_error_pct.is_some())
}

/// The category table, the class summary and the skip reasons, as Markdown.
pub fn summary_md(r: &Report) -> String {
    let mut s = String::new();
    let protocol = has_protocol(r);
    let _ = writeln!(s, "{}", if protocol { PROTOCOL_HEAD } else { HEAD });
    for (c, st) in r.by_category() {
        let _ = writeln!(s, "{}", stats_line(&c, &st, protocol));
    }
    // A class line for each class present (kernels and models both, as ever, in a report of
    // neither training nor power rows).
    let classic = !r.has_training() && !r.has_energy();
    let shown = |class: &str| classic || r.rows.iter().any(|x| x.class == class);
    if shown("kernel") {
        let _ = writeln!(
            s,
            "{}",
            stats_line("**all kernels**", &r.class("kernel"), protocol)
        );
    }
    if shown("model") {
        let _ = writeln!(
            s,
            "{}",
            stats_line("**all whole-model**", &r.class("model"), protocol)
        );
    }
    if r.has_training() {
        let _ = writeln!(
            s,
            "{}",
            stats_line("**all training steps**", &r.class("train"), protocol)
        );
    }
    let _ = writeln!(s, "{}", stats_line("**overall**", &r.overall(), protocol));
    if r.has_energy() {
        // After `overall`, which holds times and throughputs only: a watt is not averaged
        // with a millisecond.
        let _ = writeln!(
            s,
            "{}",
            stats_line(
                "**all power and energy** (not in overall)",
                &r.class("energy"),
                protocol
            )
        );
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &r.rows {
        if let Some(x) = &row.reason {
            *reasons.entry(x.as_str()).or_default() += 1;
        }
    }
    if !reasons.is_empty() {
        let _ = writeln!(s, "\nSkipped rows (not counted in any error):\n");
        for (why, n) in reasons {
            let _ = writeln!(s, "- {n} × {why}");
        }
    }
    s
}

/// Held-out kernel error per category and decade of op size (FLOPs for GEMMs and
/// attention, bytes otherwise).
pub fn by_size_md(r: &Report) -> String {
    let mut s = String::from(
        "| category | size | rows | MAPE % | median abs % | bias % |\n|---|---|---:|---:|---:|---:|\n",
    );
    for ((cat, decade, unit), st) in r.by_size() {
        let _ = writeln!(
            s,
            "| {cat} | 1e{decade}–1e{} {unit} | {} | {} | {} | {} |",
            decade + 1,
            st.n,
            pct(st.mape_pct),
            pct(st.median_abs_pct),
            pct(st.bias_pct)
        );
    }
    s
}

/// Every whole-model row, one line each (kernel rows are too many to list).
pub fn model_rows_md(r: &Report) -> String {
    let mut s = String::from(
        "| id | hardware | metric | measured | predicted | error % | fit | source |\n|---|---|---|---:|---:|---:|---|---|\n",
    );
    for x in r.rows.iter().filter(|x| x.class == "model") {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.4} | {} | {} | {} | {} |",
            x.id,
            x.hardware,
            x.metric,
            x.measured,
            x.predicted.map_or("skipped".into(), |v| format!("{v:.4}")),
            pct(x.error_pct),
            if x.used_for_calibration { "yes" } else { "" },
            x.source.replace('|', "/")
        );
    }
    s
}

/// Every power and energy row, one line each, with what its prediction is made of (boards,
/// their static part, the host, the throughput they imply).
pub fn energy_rows_md(r: &Report) -> String {
    let mut s = String::from(
        "| id | metric | measured | predicted | error % | what the prediction is made of |\n|---|---|---:|---:|---:|---|\n",
    );
    for x in r.rows.iter().filter(|x| x.class == "energy") {
        let notes = match &x.reason {
            Some(why) => format!("skipped: {why}"),
            None => x.flags.join("; "),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            x.id,
            x.metric,
            sig(x.measured),
            x.predicted.map_or("skipped".into(), sig),
            pct(x.error_pct),
            notes.replace('|', "/")
        );
    }
    s
}

/// Held-out MAPE and mean signed error of the power and energy rows, per metric.
pub fn energy_metrics_md(r: &Report) -> String {
    let mut s = String::from(
        "| metric | rows | MAPE % | mean signed error % | median abs % | max abs % | skipped |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (m, st) in r.energy_by_metric() {
        let _ = writeln!(
            s,
            "| {m} | {} | {} | {} | {} | {} | {} |",
            st.n,
            pct(st.mape_pct),
            pct(st.bias_pct),
            pct(st.median_abs_pct),
            pct(st.max_abs_pct),
            st.skipped
        );
    }
    s
}

/// Every training row, one line each: what was compared and how far off, or why skipped.
pub fn train_rows_md(r: &Report) -> String {
    let mut s = String::from(
        "| id | hardware | metric | FLOPs counted | measured | predicted | error % | notes |\n|---|---|---|---|---:|---:|---:|---|\n",
    );
    for x in r.rows.iter().filter(|x| x.class == "train") {
        let notes = match &x.reason {
            Some(why) => format!("skipped: {why}"),
            None => x.flags.join("; "),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            x.id,
            x.hardware,
            x.metric,
            x.flops_convention.unwrap_or(""),
            sig(x.measured),
            x.predicted.map_or("skipped".into(), sig),
            pct(x.error_pct),
            notes.replace('|', "/")
        );
    }
    s
}

/// Four significant figures (step times of 1 s and throughputs of 10⁶ tokens/s alike).
fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// Per-row lines then the summary, for a terminal.
/// The per-row listing and the summary. `rows_shown`: `None` lists every row in file
/// order; `Some(n)` the `n` rows with the largest absolute error, skipped rows first (each
/// is a problem to see), then a line saying how many were left out.
pub fn text(r: &Report, rows_shown: Option<usize>) -> String {
    let mut s = String::new();
    let mut rows: Vec<&crate::RowResult> = r.rows.iter().collect();
    if let Some(n) = rows_shown {
        let key = |x: &crate::RowResult| match (&x.reason, x.error_pct) {
            (Some(_), _) => f64::INFINITY,
            (None, Some(e)) => e.abs(),
            (None, None) => f64::NEG_INFINITY,
        };
        rows.sort_by(|a, b| key(b).total_cmp(&key(a)));
        rows.truncate(n);
    }
    let w = rows
        .iter()
        .map(|x| x.id.chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    let _ = writeln!(
        s,
        "{:<w$} {:>12} {:>12} {:<14} {:>8}  status",
        "id", "predicted", "measured", "metric", "err %"
    );
    for x in &rows {
        let _ = writeln!(
            s,
            "{:<w$} {:>12} {:>12.4} {:<14} {:>8}  {}{}{}",
            x.id,
            x.predicted.map_or("-".into(), |v| format!("{v:.4}")),
            x.measured,
            x.metric,
            x.error_pct.map_or("-".into(), |e| format!("{e:+.1}")),
            x.reason
                .as_deref()
                .map_or("ok".to_string(), |w| format!("skipped: {w}")),
            if x.used_for_calibration {
                " (fit row)"
            } else {
                ""
            },
            x.flags.iter().map(|f| format!("; {f}")).collect::<String>()
        );
    }
    if rows.len() < r.rows.len() {
        let _ = writeln!(
            s,
            "({} of {} rows shown: skipped rows, then the largest errors; --rows all lists \
             every row, --format json has them all)",
            rows.len(),
            r.rows.len()
        );
    }
    let _ = writeln!(s);
    s += &summary_md(r);
    s
}

/// Issue #15's per-category targets for whole models: held-out MAPE, and no systematic bias.
pub const TARGET_CATEGORY_MAPE_PCT: f64 = 15.0;
pub const TARGET_CATEGORY_BIAS_PCT: f64 = 10.0;
/// Issue #15's target for power and energy rows (held-out MAPE, percent).
pub const TARGET_ENERGY_MAPE_PCT: f64 = 15.0;

/// One summary line: which whole-model categories meet issue #15's per-category targets
/// (MAPE and the size of the mean signed error), naming those that do not.
fn category_targets_line(r: &Report) -> String {
    let model_cats: std::collections::BTreeSet<&str> = r
        .rows
        .iter()
        .filter(|x| x.class == "model")
        .map(|x| x.category.as_str())
        .collect();
    let cats = r.by_category();
    let mut met = 0;
    let mut missed = Vec::new();
    for c in &model_cats {
        let Some(st) = cats.get(*c) else { continue };
        let (Some(mape), Some(bias)) = (st.mape_pct, st.bias_pct) else {
            continue;
        };
        if mape <= TARGET_CATEGORY_MAPE_PCT && bias.abs() <= TARGET_CATEGORY_BIAS_PCT {
            met += 1;
        } else {
            missed.push(format!("{c} {mape:.1} % MAPE, bias {bias:+.1} %"));
        }
    }
    let total = met + missed.len();
    if total == 0 {
        return String::new();
    }
    format!(
        "- Whole models per category (targets: MAPE ≤ {TARGET_CATEGORY_MAPE_PCT} % and mean signed \
         error within ±{TARGET_CATEGORY_BIAS_PCT} %): {met} of {total} categories met{}\n",
        if missed.is_empty() {
            String::new()
        } else {
            format!("; **not met**: {}", missed.join("; "))
        }
    )
}

/// Held-out MAPE targets (percent) the project aims for: single kernels and whole models.
pub const TARGET_KERNEL_MAPE_PCT: f64 = 10.0;
pub const TARGET_MODEL_MAPE_PCT: f64 = 20.0;

/// The split's sources as JSON: each with its side, what was fitted from it and its
/// statistics.
pub fn split_json(r: &Report, split: &SplitFile) -> serde_json::Value {
    let stats = r.by_source();
    let sources: Vec<serde_json::Value> = split
        .source
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "split": s.split.label(),
                "description": s.description,
                "fitted": s.fitted,
                "stats": stats.get(&s.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    serde_json::json!({
        "file": split.path.display().to_string(),
        "sources": sources,
    })
}

/// One line per source of the split: its side, its rows and errors, what was fitted on it.
pub fn sources_md(r: &Report, split: &SplitFile) -> String {
    let stats = r.by_source();
    let mut s = String::from(
        "| source | split | fit rows | held-out rows | held-out MAPE % | uncalibrated MAPE % | fitted from its flagged rows |\n|---|---|---:|---:|---:|---:|---|\n",
    );
    for src in &split.source {
        let st = stats.get(&src.id).cloned().unwrap_or_default();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            src.id,
            src.split.label(),
            st.fit_n,
            st.n,
            pct(st.mape_pct),
            pct(st.uncalibrated_mape_pct),
            if src.fitted.is_empty() {
                "nothing (test source)".to_string()
            } else {
                src.fitted.replace('|', "/")
            }
        );
    }
    s
}

/// The three figures of a class, as one summary line.
fn protocol_line(what: &str, st: &Stats) -> String {
    format!(
        "- {what}: in-distribution {} % over {} rows; cross-source {} % over {} rows; \
         uncalibrated {} % over {} rows",
        pct(st.in_distribution_mape_pct),
        st.in_distribution_n,
        pct(st.cross_source_mape_pct),
        st.cross_source_n,
        pct(st.uncalibrated_mape_pct),
        st.uncalibrated_n
    )
}

/// The whole of `docs/validation.md`: how it is made, the protocol, the targets, the tables
/// (for a report of training rows only, [`training_document`]:
/// `docs/validation-training.md`).
pub fn document(r: &Report, files: &str, uncalibrated: bool, split: Option<&SplitFile>) -> String {
    if !r.rows.is_empty() && r.rows.iter().all(|x| x.class == "train") {
        return training_document(r, files, uncalibrated);
    }
    let mut s = String::from("# Validation: predictions vs measurements\n\n");
    let _ = writeln!(
        s,
        "Generated by `cargo run --release -- validate {files} --format md{}`; do not edit by hand.\n",
        if uncalibrated { " --uncalibrated" } else { "" }
    );
    s += PROTOCOL_MD;
    let k = r.class("kernel");
    let m = r.class("model");
    let verdict = |v: Option<f64>, t: f64| match v {
        Some(x) if x <= t => format!("{x:.1} % (target ≤ {t} %: met)"),
        Some(x) => format!("{x:.1} % (target ≤ {t} %: **not met**)"),
        None => format!("no rows (target ≤ {t} %)"),
    };
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(s, "{}", protocol_line("Kernels", &k));
    let _ = writeln!(s, "{}", protocol_line("Whole models", &m));
    let _ = writeln!(
        s,
        "- Kernels, cross-source MAPE: {}; in-distribution: {}; all {} held-out rows: {}",
        verdict(k.cross_source_mape_pct, TARGET_KERNEL_MAPE_PCT),
        verdict(k.in_distribution_mape_pct, TARGET_KERNEL_MAPE_PCT),
        k.n,
        verdict(k.mape_pct, TARGET_KERNEL_MAPE_PCT)
    );
    let _ = writeln!(
        s,
        "- Whole models, cross-source MAPE: {}; all {} held-out rows: {}",
        verdict(m.cross_source_mape_pct, TARGET_MODEL_MAPE_PCT),
        m.n,
        verdict(m.mape_pct, TARGET_MODEL_MAPE_PCT)
    );
    s += &category_targets_line(r);
    s += "\n";
    if r.has_training() {
        let t = r.class("train");
        let _ = writeln!(
            s,
            "- Training steps, held-out MAPE over {} rows: {} % (no target set; see \
             docs/validation-training.md)\n",
            t.n,
            pct(t.mape_pct)
        );
    }
    if r.has_energy() {
        let e = r.class("energy");
        let per: Vec<String> = r
            .energy_by_metric()
            .iter()
            .map(|(m, st)| {
                format!(
                    "`{m}` {} % MAPE, mean signed error {} % ({} rows)",
                    pct(st.mape_pct),
                    pct(st.bias_pct),
                    st.n
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "- Power and energy, held-out MAPE over {} rows: {} (mean signed error {} %; not in \
             the figures above): {}. See \"Power and energy\" below.\n",
            e.n,
            verdict(e.mape_pct, TARGET_ENERGY_MAPE_PCT),
            pct(e.bias_pct),
            per.join("; ")
        );
    }
    if let Some(sp) = split {
        let _ = writeln!(s, "## Sources and the split\n");
        let _ = writeln!(
            s,
            "From `{}` (frozen). Held-out rows of a `fit` source are in-distribution; rows of a \
             `test` source are cross-source.\n",
            sp.path.display()
        );
        s += &sources_md(r, sp);
        s += "\n";
    }
    let _ = writeln!(s, "## Error by category\n");
    s += &summary_md(r);
    let _ = writeln!(s, "\n## Kernel error by size (held-out rows)\n");
    s += &by_size_md(r);
    let _ = writeln!(s, "\n## Whole-model rows\n");
    s += &model_rows_md(r);
    if r.has_training() {
        let _ = writeln!(s, "\n## Training rows\n");
        s += &train_rows_md(r);
    }
    if r.has_energy() {
        let _ = writeln!(s, "\n## Power and energy\n");
        s += POWER_INTRO_MD;
        s += &energy_metrics_md(r);
        s += "\n";
        s += &energy_rows_md(r);
        s += POWER_MD;
    }
    s += DATASETS_MD;
    s
}

/// Devices from which a training run counts as large-scale: four 8-GPU nodes.
const LARGE_SCALE_DEVICES: u64 = 32;

/// `docs/validation-training.md`: the training rows, by source, with what each FLOP metric
/// is compared with and what the step model leaves out.
pub fn training_document(r: &Report, files: &str, uncalibrated: bool) -> String {
    let mut s = String::from("# Validation: training steps vs published runs\n\n");
    let _ = writeln!(
        s,
        "Generated by `cargo run --release -- validate {files} --format md{}`; do not edit by hand. \
         Linked from [validation.md](validation.md); the sources and their conventions: \
         [training-sources.md](training-sources.md); the step model: [training.md](training.md).\n",
        if uncalibrated { " --uncalibrated" } else { "" }
    );
    s += TRAINING_INTRO_MD;
    let t = r.class("train");
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "- {} training rows: {} predicted, {} skipped (listed below with the reason, never counted).",
        r.rows.len(),
        t.n + t.fit_n,
        t.skipped
    );
    let _ = writeln!(
        s,
        "- Held-out MAPE over {} rows: {} % (median {} %, mean signed error {} %); no row was used \
         for calibration, so there is no in-distribution figure. No target is set for training yet.",
        t.n,
        pct(t.mape_pct),
        pct(t.median_abs_pct),
        pct(t.bias_pct)
    );
    let large = Stats::of(
        r.rows
            .iter()
            .filter(|x| x.class == "train" && x.devices >= LARGE_SCALE_DEVICES),
    );
    let verdict = |m: Option<f64>| {
        if m.is_some_and(|m| m <= 10.0) {
            "met"
        } else {
            "**not met**"
        }
    };
    let _ = writeln!(
        s,
        "- Large-scale runs ({LARGE_SCALE_DEVICES} devices or more, the runs issue #13's ≤ 10 % \
         target is set for; the single-node DeepLearningExamples rows use 1–16): held-out MAPE \
         {} % over {} rows (median {} %, mean signed error {} %; target ≤ 10 %: {}).",
        pct(large.mape_pct),
        large.n,
        pct(large.median_abs_pct),
        pct(large.bias_pct),
        verdict(large.mape_pct)
    );
    // Rows whose reading changed after their error was seen: the figure without them is the
    // blind one.
    let revised = r
        .rows
        .iter()
        .filter(|x| x.class == "train" && x.devices >= LARGE_SCALE_DEVICES)
        .filter(|x| x.revised_after_error && x.error_pct.is_some())
        .count();
    if revised > 0 {
        let blind = Stats::of(r.rows.iter().filter(|x| {
            x.class == "train" && x.devices >= LARGE_SCALE_DEVICES && !x.revised_after_error
        }));
        let _ = writeln!(
            s,
            "  - {revised} of these rows were re-read after their error had been seen \
             (`revised_after_error = yes`; each says why in its note); without them: {} % over \
             {} rows (target ≤ 10 %: {}).",
            pct(blind.mape_pct),
            blind.n,
            verdict(blind.mape_pct)
        );
    }
    let unfit = r
        .rows
        .iter()
        .filter(|x| x.class == "train" && !x.flags.is_empty())
        .count();
    let _ = writeln!(
        s,
        "- {unfit} predicted rows are flagged: their layout does not fit in our memory model \
         (predicted anyway; see the notes column).\n"
    );
    let _ = writeln!(s, "## Error by source\n");
    s += &summary_md(r);
    let _ = writeln!(s, "\n## Rows\n");
    s += &train_rows_md(r);
    s += TRAINING_MD;
    s
}
