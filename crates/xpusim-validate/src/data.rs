//! The validation CSV: one measured number per row, with what was run and who measured it.
//!
//! Required columns (header names exactly, any order, extra columns kept as `extra`):
//! `id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,
//! value,unit,source`. Recognised optional columns: `category` (the error-table group),
//! `timing` (`wall` = host-side wall time including the launch, the default; `kernel` =
//! device kernel time as CUPTI / CUDA events report it), `used_for_calibration` (`yes`
//! marks rows a fit used; they are excluded from held-out error), `revised_after_error`
//! (`yes` marks rows whose reading was changed after their error was seen; reports give
//! their figures without them as well), `source_id` (the
//! measurement source the row belongs to, a key of the frozen split, [`crate::split`]) and
//! `note`; training rows
//! (phase `train`) also `flops_convention` (`model`, `model-noncausal` or `hardware`: what the
//! source's FLOP count holds, [`FlopsConvention`]), `tokens_counted` (`source+target` for
//! an encoder–decoder source that counts both sides, [`TokensCounted`]) and `attention`
//! (`unfused` for a run whose attention wrote its scores to memory, [`Attention`]).
//! Inference and prefill rows may give `seq_dist`: the sequence lengths of a harness that
//! removes padding, in `--seq-dist`'s inline form (`len:count,...`, quoted in the CSV); the
//! prediction is then the packed pass ([`xpusim_ir::Graph::pack_varlen`]) and `batch`, if
//! given, must equal its sequences.
//! Any model row may give `kv_precision` (the KV-cache format, as `--kv-precision`); phase
//! `serve` rows (an offline serving benchmark) may give `scheduler`, the server's settings as
//! `key=value` pairs ([`crate::serving`]).
//! Power and energy rows (metrics `power_w`, `energy_per_sample_j`, `joules_per_token`,
//! `samples_per_j`, [`ENERGY_METRICS`]) may give `scope` (`board`, the default: the sum of the
//! accelerator boards; `wall`: the whole node at the wall, host included, [`Scope`]) and any
//! model row may give `power_cap_w` (the per-device power limit the run was measured under).
//!
//! Only what cannot be read is an error here (a missing column, a number that is not a
//! number, a `scope` or `power_cap_w` that is not one, a `scope` on a row whose metric is not
//! a power or energy metric); names the tool does not know (metric, phase, hardware) are
//! carried as text and become "skipped" rows with a reason at evaluation. Errors about the
//! power columns name the row's id as well as its line.
//!
//! [`read`] resolves a `hardware` TOML path relative to the CSV's own directory when it is
//! there (`hw/x.toml` beside the file), so a file that ships its own hardware reads the same
//! from any working directory.

use std::collections::BTreeMap;

use crate::train::{Attention, FlopsConvention, TokensCounted};
use crate::ValidateError;

pub const REQUIRED: [&str; 14] = [
    "id",
    "hardware",
    "devices",
    "parallelism",
    "precision",
    "workload",
    "phase",
    "batch",
    "seq_in",
    "seq_out",
    "metric",
    "value",
    "unit",
    "source",
];

/// How the measurement was timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Host wall time around the op or model: includes launch overhead.
    Wall,
    /// GPU kernel time only (CUPTI, CUDA events around one kernel): no launch overhead.
    Kernel,
}

/// The power and energy metrics, each with its unit: what [`Scope`] applies to.
pub const ENERGY_METRICS: [(&str, &str); 4] = [
    ("power_w", "W"),
    ("energy_per_sample_j", "J/sample"),
    ("joules_per_token", "J/token"),
    ("samples_per_j", "samples/J"),
];

/// Whether `metric` is a power or energy metric ([`ENERGY_METRICS`]).
pub fn is_energy_metric(metric: &str) -> bool {
    ENERGY_METRICS.iter().any(|(m, _)| *m == metric)
}

/// What a power or energy measurement covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The accelerator boards alone (their sum over the row's devices): what `nvidia-smi`
    /// or a board's own sensor reports.
    Board,
    /// The whole node at the wall: the boards plus the host (CPUs, memory, fans, NICs,
    /// switches, power-supply losses), as MLPerf Power's analyser measures it. Predicted
    /// with the system file's `node_power.overhead_w` for the host.
    Wall,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim().to_ascii_lowercase().as_str() {
            "board" => Some(Scope::Board),
            "wall" => Some(Scope::Wall),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Board => "board",
            Scope::Wall => "wall",
        }
    }
}

/// One measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line in the file (header is line 1).
    pub line: u64,
    pub id: String,
    pub hardware: String,
    pub devices: u64,
    /// `dp`, `tp` or empty (the default for the phase).
    pub parallelism: String,
    pub precision: String,
    pub workload: String,
    pub phase: String,
    /// 1 where the column is empty (see [`Row::batch_given`]).
    pub batch: u64,
    /// Whether the `batch` column had a value (a training row needs its global batch).
    pub batch_given: bool,
    pub seq_in: u64,
    pub seq_out: u64,
    pub metric: String,
    pub value: f64,
    pub unit: String,
    pub source: String,
    pub category: Option<String>,
    pub timing: Timing,
    pub used_for_calibration: bool,
    /// `revised_after_error = yes`: how the row is read (its layout, its conventions) was
    /// changed after its prediction error had been seen. Nothing is fitted, but the reading
    /// was not blind, so reports give their figures without such rows too.
    pub revised_after_error: bool,
    /// The measurement source (dataset + device + library or harness) the row belongs to:
    /// a source of the frozen split ([`crate::split`]); empty where the file has none.
    pub source_id: String,
    pub note: String,
    /// Per-call floor of the measurement harness in µs (`harness_floor_us`): back-to-back
    /// host calls whose dispatch overlaps the device's work cost at least this each, so the
    /// prediction is `max(device time, floor)`. Absent: the device time alone.
    pub harness_floor_us: Option<f64>,
    /// Training rows: what the source's FLOP count (MFU, TFLOP/s) holds.
    pub flops_convention: Option<FlopsConvention>,
    /// Training rows: which tokens the source's `tokens_per_s` counts.
    pub tokens_counted: Option<TokensCounted>,
    /// The software stack the source ran (`runtime`: a runtime preset or TOML, e.g.
    /// `pytorch-eager`, `cuda-graphs`, `sarathi-vllm`): part of the measurement setup, so the
    /// prediction runs under it. None: device time alone.
    pub runtime: Option<xpusim_hw::RuntimeSpec>,
    /// Training rows: how the run computed attention (empty: fused, the zoo's own).
    pub attention: Attention,
    /// Training rows: the dropout rate the run trained with (empty: not stated, none
    /// modelled).
    pub dropout: Option<f64>,
    /// The sequence lengths of an unpadded run (`seq_dist`), when the harness removed
    /// padding; `batch` is then its sequences.
    pub seq_dist: Option<xpusim_ir::SeqDist>,
    /// The KV-cache format where it differs from `precision`'s (`kv_precision`, as
    /// `--kv-precision`).
    pub kv_precision: Option<xpusim_ir::DType>,
    /// Phase `serve` rows: the server's settings (`scheduler`, [`crate::serving`]).
    pub serve: Option<crate::serving::ServeSetup>,
    /// Power and energy rows: what the measurement covers (`scope`; default board).
    pub scope: Scope,
    /// The per-device power cap the run was measured under, W (`power_cap_w`; absent: the
    /// device file's cap, else its TDP). Part of the measurement setup: the prediction runs
    /// under it, for every metric.
    pub power_cap_w: Option<f64>,
    /// Every other column, by header name.
    pub extra: BTreeMap<String, String>,
}

/// An optional column's value: `None` where the cell is empty, else what `parse` makes of it.
fn optional<T>(
    cell: String,
    parse: impl FnOnce(&str) -> Result<T, ValidateError>,
) -> Result<Option<T>, ValidateError> {
    if cell.is_empty() {
        Ok(None)
    } else {
        parse(&cell).map(Some)
    }
}

/// Smallest measured value a row may hold. Every metric divides by its measurement in the
/// relative error, so 1e-308 made MAPE infinite; 10⁻¹² is below any real reading (a
/// picosecond in seconds, a millionth of a nanosecond in ms) in every unit the format has.
pub const MIN_VALUE: f64 = 1e-12;

/// Largest measured value a row may hold: 10¹⁵, above any real reading (the tokens/s of a
/// whole datacentre, the bytes of a device's memory) while keeping errors finite.
pub const MAX_VALUE: f64 = 1e15;

/// Parses validation rows from CSV text; `file` is used in messages only.
pub fn parse(file: &str, text: &str) -> Result<Vec<Row>, ValidateError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ValidateError::Parse {
            file: file.into(),
            line: 1,
            msg: e.to_string(),
        })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| col(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ValidateError::Parse {
            file: file.into(),
            line: 1,
            msg: format!(
                "header lacks column(s) {}; expected at least {}",
                missing.join(", "),
                REQUIRED.join(",")
            ),
        });
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ValidateError::Parse {
            file: file.into(),
            line: e.position().map_or(0, |p| p.line()),
            msg: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |name: &str| col(name).and_then(|i| rec.get(i)).unwrap_or("").to_string();
        let field = |column: &str, msg: String| ValidateError::Field {
            file: file.into(),
            line,
            column: column.into(),
            msg,
        };
        let int = |name: &str, default: u64| -> Result<u64, ValidateError> {
            let s = get(name);
            if s.is_empty() {
                return Ok(default);
            }
            s.parse::<u64>()
                .map_err(|_| field(name, format!("expected a whole number, got `{s}`")))
        };
        let value_s = get("value");
        let value = value_s
            .parse::<f64>()
            .ok()
            .filter(|v| (MIN_VALUE..=MAX_VALUE).contains(v))
            .ok_or_else(|| {
                field(
                    "value",
                    format!(
                        "expected a positive number from {MIN_VALUE:e} to {MAX_VALUE:e}, got \
                         `{value_s}`"
                    ),
                )
            })?;
        let devices = int("devices", 1)?;
        if devices == 0 {
            return Err(field("devices", "expected at least 1".into()));
        }
        let timing = match get("timing").to_ascii_lowercase().as_str() {
            "" | "wall" => Timing::Wall,
            "kernel" => Timing::Kernel,
            other => {
                return Err(field(
                    "timing",
                    format!("expected `wall` or `kernel`, got `{other}`"),
                ))
            }
        };
        let yes_no = |name: &str| match get(name).to_ascii_lowercase().as_str() {
            "" | "no" => Ok(false),
            "yes" => Ok(true),
            other => Err(field(
                name,
                format!("expected `yes` or `no`, got `{other}`"),
            )),
        };
        let used = yes_no("used_for_calibration")?;
        let revised_after_error = yes_no("revised_after_error")?;
        let category = Some(get("category")).filter(|c| !c.is_empty());
        let harness_floor_us = optional(get("harness_floor_us"), |v| {
            v.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    field(
                        "harness_floor_us",
                        format!("expected a number of µs >= 0, got `{v}`"),
                    )
                })
        })?;
        let flops_convention = optional(get("flops_convention"), |v| {
            FlopsConvention::parse(v)
                .ok_or_else(|| field("flops_convention", FlopsConvention::expected(v)))
        })?;
        let tokens_counted = optional(get("tokens_counted"), |v| {
            TokensCounted::parse(v)
                .ok_or_else(|| field("tokens_counted", TokensCounted::expected(v)))
        })?;
        let runtime = optional(get("runtime"), |v| {
            xpusim_hw::load_runtime(v.trim()).map_err(|e| field("runtime", e.to_string()))
        })?;
        let att_s = get("attention");
        let attention = if att_s.is_empty() {
            Attention::Fused
        } else {
            Attention::parse(&att_s)
                .ok_or_else(|| field("attention", Attention::expected(&att_s)))?
        };
        let drop_s = get("dropout");
        let dropout = if drop_s.is_empty() {
            None
        } else {
            match drop_s.trim().parse::<f64>() {
                Ok(p) if (0.0..1.0).contains(&p) => Some(p),
                _ => {
                    return Err(field(
                        "dropout",
                        format!("expected a rate in [0, 1), got `{drop_s}`"),
                    ))
                }
            }
        };
        let seq_dist = optional(get("seq_dist"), |v| {
            xpusim_ir::SeqDist::parse_inline(v).map_err(|e| field("seq_dist", e.to_string()))
        })?;
        let mut batch = int("batch", 1)?;
        if let Some(d) = &seq_dist {
            if !get("batch").is_empty() && batch != d.sequences() {
                return Err(field(
                    "batch",
                    format!(
                        "{batch} differs from the {} sequences of `seq_dist`",
                        d.sequences()
                    ),
                ));
            }
            batch = d.sequences();
        }
        let id = get("id");
        let metric = get("metric");
        // The power columns' errors name the row, which a reader finds by id.
        let row_field = |column: &str, msg: String| field(column, format!("row `{id}`: {msg}"));
        let scope_s = get("scope");
        let scope = if scope_s.is_empty() {
            Scope::Board
        } else {
            let sc = Scope::parse(&scope_s).ok_or_else(|| {
                row_field(
                    "scope",
                    format!("expected `board` or `wall`, got `{scope_s}`"),
                )
            })?;
            if !is_energy_metric(&metric) {
                let expected = ENERGY_METRICS.map(|m| m.0).join(", ");
                return Err(if crate::predict::expected_unit(&metric).is_some() {
                    row_field(
                        "scope",
                        format!("applies to power and energy metrics ({expected}), not `{metric}`"),
                    )
                } else {
                    row_field(
                        "metric",
                        format!(
                            "unknown power or energy metric `{metric}` (the row gives a \
                             `scope`; expected {expected})"
                        ),
                    )
                });
            }
            sc
        };
        let power_cap_w = optional(get("power_cap_w"), |v| {
            v.parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w > 0.0)
                .ok_or_else(|| {
                    row_field(
                        "power_cap_w",
                        format!("expected a power in W above 0, got `{v}`"),
                    )
                })
        })?;
        let kv_precision = optional(get("kv_precision"), |v| {
            xpusim_ir::DType::parse(v).map_err(|e| row_field("kv_precision", e.to_string()))
        })?;
        let serve = optional(get("scheduler"), |v| {
            crate::serving::ServeSetup::parse(v).map_err(|e| row_field("scheduler", e))
        })?;
        let known = |h: &str| {
            REQUIRED.contains(&h)
                || [
                    "category",
                    "timing",
                    "used_for_calibration",
                    "revised_after_error",
                    "source_id",
                    "note",
                    "harness_floor_us",
                    "flops_convention",
                    "tokens_counted",
                    "runtime",
                    "attention",
                    "dropout",
                    "seq_dist",
                    "scope",
                    "power_cap_w",
                    "kv_precision",
                    "scheduler",
                ]
                .contains(&h)
        };
        let extra = headers
            .iter()
            .zip(rec.iter())
            .filter(|(h, _)| !known(h))
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        rows.push(Row {
            line,
            id,
            hardware: get("hardware"),
            devices,
            parallelism: get("parallelism").to_ascii_lowercase(),
            precision: get("precision"),
            workload: get("workload"),
            phase: get("phase").to_ascii_lowercase(),
            batch,
            batch_given: !get("batch").is_empty() || seq_dist.is_some(),
            seq_in: int("seq_in", 0)?,
            seq_out: int("seq_out", 0)?,
            metric,
            value,
            unit: get("unit"),
            source: get("source"),
            category,
            timing,
            used_for_calibration: used,
            revised_after_error,
            source_id: get("source_id"),
            note: get("note"),
            harness_floor_us,
            flops_convention,
            tokens_counted,
            runtime,
            attention,
            dropout,
            seq_dist,
            kv_precision,
            serve,
            scope,
            power_cap_w,
            extra,
        });
    }
    Ok(rows)
}

/// Reads and parses a file.
pub fn read(path: &std::path::Path) -> Result<Vec<Row>, ValidateError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ValidateError::Io {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    let mut rows = parse(&file, &text)?;
    let dir = path.parent().unwrap_or(std::path::Path::new(""));
    for r in &mut rows {
        let hw = std::path::Path::new(&r.hardware);
        if r.hardware.ends_with(".toml") && hw.is_relative() && dir.join(hw).is_file() {
            r.hardware = dir.join(hw).display().to_string();
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source";

    #[test]
    fn seq_dist_column_gives_the_batch_and_names_bad_values() {
        let text = format!(
            "{HEAD},seq_dist\nr1,a100,1,,fp16,bert-large,inference,,,,samples_per_s,100,1/s,s,\"128:4,384:2\"\nr2,a100,1,,fp16,bert-large,inference,8,128,,samples_per_s,100,1/s,s,\n"
        );
        let rows = parse("t.csv", &text).unwrap();
        let d = rows[0].seq_dist.as_ref().unwrap();
        assert_eq!(d.bins(), &[(128, 4), (384, 2)]);
        assert_eq!((rows[0].batch, rows[0].batch_given), (6, true));
        assert!(rows[1].seq_dist.is_none());
        let bad = format!(
            "{HEAD},seq_dist\nr1,a100,1,,fp16,bert-large,inference,,,,samples_per_s,100,1/s,s,128:x\n"
        );
        let e = parse("t.csv", &bad).unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:2: column `seq_dist`") && e.contains("`128:x`"),
            "{e}"
        );
        let mismatch = format!(
            "{HEAD},seq_dist\nr1,a100,1,,fp16,bert-large,inference,5,,,samples_per_s,100,1/s,s,128:4\n"
        );
        let e = parse("t.csv", &mismatch).unwrap_err().to_string();
        assert!(
            e.contains("column `batch`") && e.contains("4 sequences"),
            "{e}"
        );
    }

    #[test]
    fn parses_quoted_sources_defaults_and_extras() {
        let text = format!(
            "{HEAD},note,category,lab\nr1,a100,,,fp16,\"gemm:m=1,n=2,k=3\",kernel,,,,latency_ms,0.5,ms,\"paper, fig 5\",hm,gemm,x\n"
        );
        let rows = parse("t.csv", &text).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.devices, r.batch, r.line), (1, 1, 2));
        assert_eq!(r.workload, "gemm:m=1,n=2,k=3");
        assert_eq!(r.source, "paper, fig 5");
        assert_eq!(r.category.as_deref(), Some("gemm"));
        assert_eq!(r.extra.get("lab").map(String::as_str), Some("x"));
        assert_eq!(r.timing, Timing::Wall);
    }

    #[test]
    fn bad_header_names_the_missing_columns() {
        let e = parse("t.csv", "id,hardware\nx,y\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:1:"), "{e}");
        assert!(e.contains("devices"), "{e}");
    }

    #[test]
    fn runtime_column_names_a_profile() {
        let text = format!(
            "{HEAD},runtime\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s,pytorch-eager\nr2,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s,\n"
        );
        let ok = parse("t.csv", &text).unwrap();
        assert_eq!(
            ok[0].runtime.as_ref().map(|r| r.name.as_str()),
            Some("pytorch-eager")
        );
        assert!(ok[1].runtime.is_none());
        let text = format!(
            "{HEAD},runtime\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s,vllm-next\n"
        );
        let e = parse("t.csv", &text).unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:2: column `runtime`: unknown runtime `vllm-next`"),
            "{e}"
        );
    }

    #[test]
    fn bad_numbers_name_file_line_and_column() {
        let text = format!("{HEAD}\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s\nr2,a100,1,,fp16,membw:bytes=1,kernel,two,0,0,latency_ms,0.5,ms,s\n");
        let e = parse("t.csv", &text).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv:3: column `batch`: expected a whole number, got `two`"
        );
        let text =
            format!("{HEAD}\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,-1,ms,s\n");
        let e = parse("t.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: column `value`"), "{e}");
        // Issue #16: a 1e-308 measurement made MAPE infinite.
        for v in ["1e-308", "1e300", "inf", "nan"] {
            let text =
                format!("{HEAD}\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,{v},ms,s\n");
            let e = parse("t.csv", &text).unwrap_err().to_string();
            assert!(e.starts_with("t.csv:2: column `value`"), "{v}: {e}");
        }
        let text = format!("{HEAD}\nr1,a100,1,,fp16\n");
        let e = parse("t.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2:"), "{e}");
        let text = format!(
            "{HEAD},harness_floor_us\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s,12.5\nr2,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s,-3\n"
        );
        let e = parse("t.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3: column `harness_floor_us`"), "{e}");
        let ok = parse("t.csv", &text.replace(",-3", ",")).unwrap();
        assert_eq!(ok[0].harness_floor_us, Some(12.5));
        assert_eq!(ok[1].harness_floor_us, None);
        assert!(ok[0].extra.is_empty());
    }

    #[test]
    fn revised_after_error_is_yes_or_no() {
        let row = |v: &str| {
            format!("{HEAD},revised_after_error\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s,{v}\n")
        };
        assert!(parse("t.csv", &row("yes")).unwrap()[0].revised_after_error);
        assert!(!parse("t.csv", &row("")).unwrap()[0].revised_after_error);
        let e = parse("t.csv", &row("maybe")).unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:2: column `revised_after_error`") && e.contains("`maybe`"),
            "{e}"
        );
    }

    const POWER_HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,scope,power_cap_w";

    fn power_row(id: &str, metric: &str, scope: &str, cap: &str) -> String {
        format!("{POWER_HEAD}\n{id},a100-80gb,8,dp,int8,resnet-50,inference,2048,,,{metric},2000,W,s,{scope},{cap}\n")
    }

    #[test]
    fn power_columns_parse_with_defaults() {
        let ok = parse("p.csv", &power_row("r1", "power_w", "wall", "195")).unwrap();
        assert_eq!(ok[0].scope, Scope::Wall);
        assert_eq!(ok[0].power_cap_w, Some(195.0));
        assert!(ok[0].extra.is_empty(), "{:?}", ok[0].extra);
        let ok = parse("p.csv", &power_row("r1", "samples_per_j", "", "")).unwrap();
        assert_eq!((ok[0].scope, ok[0].power_cap_w), (Scope::Board, None));
        // A file without the columns reads as before: board scope, no cap.
        let text =
            format!("{HEAD}\nr1,a100,1,,fp16,membw:bytes=1,kernel,1,0,0,latency_ms,0.5,ms,s\n");
        let ok = parse("t.csv", &text).unwrap();
        assert_eq!((ok[0].scope, ok[0].power_cap_w), (Scope::Board, None));
        // A cap on a throughput row is part of its setup too.
        let ok = parse("p.csv", &power_row("r1", "samples_per_s", "", "250")).unwrap();
        assert_eq!(ok[0].power_cap_w, Some(250.0));
    }

    #[test]
    fn bad_scope_names_the_row_and_column() {
        let e = parse("p.csv", &power_row("dgx-r50", "power_w", "socket", ""))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "p.csv:2: column `scope`: row `dgx-r50`: expected `board` or `wall`, got `socket`"
        );
        // A scope on a metric that is not power or energy.
        let e = parse("p.csv", &power_row("r2", "samples_per_s", "wall", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.csv:2: column `scope`: row `r2`: applies to power and energy"),
            "{e}"
        );
    }

    #[test]
    fn bad_cap_names_the_row_and_column() {
        for cap in ["-5", "0", "inf", "nan", "195W"] {
            let e = parse("p.csv", &power_row("pcie-bert", "power_w", "wall", cap))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("p.csv:2: column `power_cap_w`: row `pcie-bert`: expected a power"),
                "{cap}: {e}"
            );
        }
    }

    #[test]
    fn unknown_energy_metric_names_the_row_and_column() {
        let e = parse("p.csv", &power_row("r3", "watts", "wall", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "p.csv:2: column `metric`: row `r3`: unknown power or energy metric `watts`"
            ),
            "{e}"
        );
        assert!(e.contains("power_w, energy_per_sample_j"), "{e}");
    }

    #[test]
    fn hardware_files_resolve_beside_the_csv() {
        let dir = std::env::temp_dir().join(format!("xpusim-data-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("hw")).unwrap();
        std::fs::write(dir.join("hw/x.toml"), "").unwrap();
        let csv = dir.join("p.csv");
        std::fs::write(
            &csv,
            format!("{POWER_HEAD}\nr,hw/x.toml,1,,int8,resnet-50,inference,1,,,power_w,300,W,s,,\nq,a100-80gb,1,,int8,resnet-50,inference,1,,,power_w,300,W,s,,\n"),
        )
        .unwrap();
        let rows = read(&csv).unwrap();
        assert_eq!(
            rows[0].hardware,
            dir.join("hw/x.toml").display().to_string()
        );
        assert_eq!(rows[1].hardware, "a100-80gb");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn comment_lines_count_in_line_numbers() {
        let text = format!(
            "# generated\n{}\nr1,a100,1,,fp16,membw:bytes=1,kernel,x,0,0,latency_ms,0.5,ms,s\n",
            REQUIRED.join(",")
        );
        let e = parse("t.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3: column `batch`"), "{e}");
    }
}
