//! `xpusim validate FILE...`: predicts every row of validation CSVs and reports the error.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use xpusim_validate::{render, Predictor, Report};

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
    let mut rows = Vec::new();
    for f in &a.files {
        rows.extend(xpusim_validate::read(f)?);
    }
    let mut p = Predictor::default();
    p.uncalibrated = a.uncalibrated;
    let report = Report::run(&rows, &mut p);
    let text = match a.format {
        ValidateFormat::Table => render::text(&report, a.rows.0),
        ValidateFormat::Json => serde_json::to_string_pretty(&report.to_json())? + "\n",
        ValidateFormat::Md => {
            let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
            render::document(&report, &files.join(" "), a.uncalibrated)
        }
    };
    out!("{text}");
    Ok(())
}
