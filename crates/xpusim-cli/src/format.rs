//! Human-readable numbers and tables.

use std::sync::atomic::{AtomicBool, Ordering};

pub fn time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

pub fn si(v: f64, unit: &str) -> String {
    let (d, p) = if v >= 1e15 {
        (1e15, "P")
    } else if v >= 1e12 {
        (1e12, "T")
    } else if v >= 1e9 {
        (1e9, "G")
    } else if v >= 1e6 {
        (1e6, "M")
    } else if v >= 1e3 {
        (1e3, "k")
    } else if v >= 1.0 || v == 0.0 {
        (1.0, "")
    } else if v >= 1e-3 {
        (1e-3, "m")
    } else {
        (1e-6, "µ")
    };
    // Three significant digits.
    let x = v / d;
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$} {p}{unit}").trim_end().to_string()
}

pub fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

static WIDE: AtomicBool = AtomicBool::new(false);

/// `--wide`: every column, no wrapping.
pub fn set_wide(wide: bool) {
    WIDE.store(wide, Ordering::Relaxed);
}

fn wide() -> bool {
    WIDE.load(Ordering::Relaxed)
}

/// A table that fits the terminal: cells wrap to its width (comfy-table's dynamic
/// arrangement; the width of `COLUMNS` when set, as when output is piped from a terminal
/// session); piped output without `COLUMNS` keeps whole rows, and `--wide` never wraps.
pub fn table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    if wide() {
        return t;
    }
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&w| w >= 40)
    {
        t.set_width(w);
    }
    t
}

/// `text` wrapped at word boundaries to the width tables get (the terminal's, or
/// `COLUMNS`); unchanged when there is none (piped output) or under `--wide`.
pub fn wrap(text: &str) -> String {
    let Some(w) = table().width().map(usize::from).filter(|&w| w >= 40) else {
        return text.to_string();
    };
    let mut out = String::new();
    for (i, para) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut col = 0;
        for word in para.split(' ') {
            let n = word.chars().count();
            if col > 0 && col + 1 + n > w {
                out.push('\n');
                col = 0;
            } else if col > 0 {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += n;
        }
    }
    out
}

/// Hides the columns `names` of `t` (by header text) unless `--wide`; returns the line
/// that says so, to print under the table. CSV and JSON always carry every column.
pub fn narrow(t: &mut comfy_table::Table, names: &[&str]) -> Option<String> {
    if wide() {
        return None;
    }
    let header: Vec<String> = t
        .header()
        .map(|h| h.cell_iter().map(|c| c.content()).collect())
        .unwrap_or_default();
    let mut hidden = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if names.contains(&h.as_str()) {
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(comfy_table::ColumnConstraint::Hidden);
                hidden.push(h.clone());
            }
        }
    }
    (!hidden.is_empty()).then(|| {
        format!(
            "(not shown: {}; --wide shows every column, --format csv or json has them all)",
            hidden.join(", ")
        )
    })
}

/// Quotes a CSV field when needed (RFC 4180).
pub fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Energy by part, one line each (the one accounting `run`, `serve` and `train` share):
/// arithmetic, each memory level, links, PIM, static power and the host's share; parts of
/// zero are left out. `total_j` is what the shares divide.
pub fn energy_table(e: &xpusim_target::EnergyBreakdown, total_j: f64) -> comfy_table::Table {
    let mut parts: Vec<(String, f64)> = vec![("compute".into(), e.compute_j)];
    parts.extend(e.memory_j.iter().map(|(l, j)| (format!("memory:{l}"), *j)));
    parts.extend([
        ("network".to_string(), e.network_j),
        ("PIM".to_string(), e.pim_j),
        ("static (idle)".to_string(), e.idle_j),
        ("node overhead".to_string(), e.node_j),
    ]);
    let mut et = table();
    et.set_header(["energy by part", "energy", "share"]);
    for (k, j) in parts.into_iter().filter(|p| p.1 > 0.0) {
        et.add_row([k, si(j, "J"), pct(j / total_j)]);
    }
    et
}
