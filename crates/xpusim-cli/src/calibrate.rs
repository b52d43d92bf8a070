//! `xpusim calibrate FILE... --hw NAME`: fits a device's efficiency curves from measured
//! kernel rows and prints them as a `[[calibration]]` TOML snippet (or writes a device file).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use xpusim_hw::{CalibrationFamily, DeviceSpec};
use xpusim_validate::{fit, Predictor, Report};

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Validation CSV files holding kernel measurements of the device.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The device to fit (preset name or device TOML path); rows of other devices are ignored.
    #[arg(long)]
    pub hw: String,
    /// Fit from every kernel row of the device, not only those marked used_for_calibration=yes.
    #[arg(long)]
    pub all_rows: bool,
    /// Families to fit, comma separated (matmul, attention, vector, embedding, memory);
    /// default: every family with rows.
    #[arg(long, value_delimiter = ',')]
    pub families: Vec<String>,
    /// Write a complete device file with the fitted curves to this path.
    #[arg(long)]
    pub write: Option<PathBuf>,
    /// Derive `[matrix] efficiency` instead of curves: the efficiency at which the median
    /// predicted / measured time of the device's flagged GEMMs of at least 1 GFLOP is 1
    /// (curves dropped), to two decimals.
    #[arg(long, conflicts_with_all = ["families", "write"])]
    pub matrix_efficiency: bool,
    /// With --matrix-efficiency: derive the efficiency of this number format alone
    /// (`[matrix] efficiency_by_format`) from the flagged GEMMs the matrix unit runs in it.
    #[arg(long, requires = "matrix_efficiency")]
    pub dtype: Option<String>,
}

fn family(name: &str) -> Result<CalibrationFamily> {
    CalibrationFamily::ALL
        .into_iter()
        .find(|f| f.name() == name.trim())
        .with_context(|| {
            format!("--families: unknown family `{name}` (expected matmul, attention, vector, embedding or memory)")
        })
}

/// The TOML text of a preset or device file, to rewrite with new curves.
fn device_text(hw: &str, dev: &DeviceSpec) -> Result<String> {
    if hw.ends_with(".toml") || std::path::Path::new(hw).is_file() {
        return std::fs::read_to_string(hw).with_context(|| format!("{hw}: cannot read"));
    }
    for (file, src) in xpusim_hw::registry::DEVICES {
        if DeviceSpec::from_toml(file, src).is_ok_and(|d| d.name == dev.name) {
            return Ok(src.to_string());
        }
    }
    bail!("no TOML text found for `{hw}`")
}

pub fn main(a: &CalibrateArgs) -> Result<()> {
    let dev = xpusim_hw::load_device(&a.hw)?;
    let mut rows = Vec::new();
    for f in &a.files {
        rows.extend(xpusim_validate::read(f)?);
    }
    if a.matrix_efficiency {
        if a.all_rows {
            rows.iter_mut().for_each(|r| r.used_for_calibration = true);
        }
        let format = match &a.dtype {
            Some(f) => Some(
                xpusim_ir::DType::parse(f)
                    .with_context(|| format!("--dtype: unknown number format `{f}`"))?,
            ),
            None => None,
        };
        let e = xpusim_validate::efficiency::matrix_efficiency(&rows, &dev, format)
            .map_err(|e| anyhow::anyhow!(e))?;
        let of = format.map_or(String::new(), |f| format!(" for {f}"));
        warnln!(
            "matrix efficiency{of} of `{}` from {} flagged GEMM row(s) of at least 1 GFLOP: {:.4} (rounded {:.2})",
            dev.name,
            e.rows.len(),
            e.exact,
            e.efficiency
        );
        match format {
            Some(f) => out!(
                "[matrix]\nefficiency_by_format = {{ {f} = {:.2} }}\n",
                e.efficiency
            ),
            None => out!("[matrix]\nefficiency = {:.2}\n", e.efficiency),
        }
        return Ok(());
    }
    let wanted: Vec<CalibrationFamily> = a
        .families
        .iter()
        .map(|f| family(f))
        .collect::<Result<_>>()?;
    let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
    let source = format!(
        "xpusim calibrate {} --hw {}{}{}",
        files.join(" "),
        a.hw,
        if a.families.is_empty() {
            String::new()
        } else {
            format!(" --families {}", a.families.join(","))
        },
        if a.all_rows {
            " --all-rows"
        } else {
            " (rows marked used_for_calibration=yes)"
        }
    );
    let mut result = fit::fit(&rows, &dev, !a.all_rows, &source);
    if !wanted.is_empty() {
        result.curves.retain(|c| wanted.contains(&c.family));
    }
    if result.curves.is_empty() {
        bail!(
            "no kernel rows of `{}` could inform a curve ({} considered)",
            dev.name,
            result.ignored.len()
        );
    }
    // Error on the rows the fit used, before and after.
    let mut on_dev = std::collections::HashMap::new();
    let fit_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.phase == "kernel" && (a.all_rows || r.used_for_calibration))
        .filter(|r| {
            *on_dev.entry(r.hardware.clone()).or_insert_with(|| {
                xpusim_hw::load_device(&r.hardware).is_ok_and(|d| d.name == dev.name)
            })
        })
        .cloned()
        .map(|mut r| {
            r.used_for_calibration = false;
            r
        })
        .collect();
    let mut before = Predictor::default();
    before.override_device = Some(dev.clone());
    before.uncalibrated = true;
    let mut fitted = dev.clone();
    fitted.calibration = result.curves.clone();
    let mut after = Predictor::default();
    after.override_device = Some(fitted);
    let b = Report::run(&fit_rows, &mut before);
    let f = Report::run(&fit_rows, &mut after);
    let (sb, sf) = (b.overall(), f.overall());
    warnln!(
        "fitted {} curve(s) from {} rows ({} ignored); MAPE on those rows: {:.1}% uncalibrated -> {:.1}% calibrated",
        result.curves.len(),
        result.used,
        result.ignored.len(),
        sb.mape_pct.unwrap_or(f64::NAN),
        sf.mape_pct.unwrap_or(f64::NAN)
    );
    let snippet = fit::to_toml(&result.curves);
    match &a.write {
        Some(path) => {
            let text = fit::replace_in_device(&device_text(&a.hw, &dev)?, &result.curves)
                .map_err(|e| anyhow::anyhow!("{}: {e}", a.hw))?;
            DeviceSpec::from_toml(&path.display().to_string(), &text)?;
            std::fs::write(path, text)
                .with_context(|| format!("{}: cannot write", path.display()))?;
            warnln!("wrote {}", path.display());
        }
        None => out!("{snippet}"),
    }
    Ok(())
}
