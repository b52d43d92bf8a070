//! `xpusim validate FILE...`: predicts every row of validation CSVs and reports the error.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use xpusim_validate::{render, split, Predictor, Report};

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Per-row predicted, measured and signed error, then MAPE per category.
    #[default]
    Table,
    Json,
    /// The error tables as Markdown (the body of docs/validation.md).
    Md,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Validation CSV files (columns: id,hardware,devices,parallelism,precision,workload,
    /// phase,batch,seq_in,seq_out,metric,value,unit,source; see docs/validation.md).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ValidateFormat,
    /// Ignore the devices' calibration curves (the analytical model alone).
    #[arg(long)]
    pub uncalibrated: bool,
    /// The frozen split by source (default: `split.toml` beside the first file, if any):
    /// rows of the files it covers are reported as in-distribution or cross-source.
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Rows the table lists: a number (the largest errors first; skipped rows before them)
    /// or `all` (every row, in file order).
    #[arg(long, default_value = "20", value_parser = rows_shown)]
    pub rows: RowsShown,
}

/// `--rows N` or `--rows all`.
#[derive(Debug, Clone, Copy)]
pub struct RowsShown(pub Option<usize>);

fn rows_shown(s: &str) -> Result<RowsShown, String> {
    if s == "all" {
        return Ok(RowsShown(None));
    }
    s.parse::<usize>()
        .map(|n| RowsShown(Some(n)))
        .map_err(|_| format!("`{s}`: expected a number of rows or `all`"))
}

pub fn main(a: &ValidateArgs) -> Result<()> {
    let split_path = a
        .split
        .clone()
        .or_else(|| a.files.first().and_then(|f| split::beside(f)));
    let split = split_path
        .as_deref()
        .map(split::SplitFile::read)
        .transpose()?;
    let loaded = split::load(&a.files, split.as_ref())?;
    let mut p = Predictor::default();
    p.uncalibrated = a.uncalibrated;
    let report = Report::run_protocol(&loaded, &mut p);
    let text = match a.format {
        ValidateFormat::Table => render::text(&report, a.rows.0),
        ValidateFormat::Json => {
            let mut v = report.to_json();
            if let Some(s) = &split {
                v["split"] = render::split_json(&report, s);
            }
            serde_json::to_string_pretty(&v)? + "\n"
        }
        ValidateFormat::Md => {
            let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
            render::document(&report, &files.join(" "), a.uncalibrated, split.as_ref())
        }
    };
    out!("{text}");
    Ok(())
}
