//! The validation protocol (issue #15): the frozen split places every shipped row, flagged
//! rows come only from fit sources, and every fitted preset constant and curve is what its
//! rule gives from the flagged rows — nothing was set by looking at a held-out row.

use std::path::PathBuf;

use xpusim_hw::DeviceSpec;
use xpusim_ir::DType;
use xpusim_validate::split::{self, Side, SplitFile};
use xpusim_validate::{efficiency, fit, Row};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn split_file() -> SplitFile {
    SplitFile::read(&root().join("data/validation/split.toml")).expect("split.toml parses")
}

fn shipped_files(s: &SplitFile) -> Vec<PathBuf> {
    s.files
        .iter()
        .map(|f| root().join("data/validation").join(f))
        .collect()
}

fn read_all(files: &[&str]) -> Vec<Row> {
    files
        .iter()
        .flat_map(|f| xpusim_validate::read(&root().join(f)).expect("file reads"))
        .collect()
}

#[test]
fn the_split_places_every_shipped_row_and_flagged_rows_are_from_fit_sources() {
    let s = split_file();
    let files = shipped_files(&s);
    assert!(files.iter().all(|f| s.covers(f)), "split covers its files");
    let loaded = split::load(&files, Some(&s)).expect("every row has a known source");
    assert_eq!(loaded.rows.len(), loaded.sides.len());
    let mut test_rows = 0;
    for (r, side) in loaded.rows.iter().zip(&loaded.sides) {
        let side = side.unwrap_or_else(|| panic!("row `{}` has no side", r.id));
        assert_eq!(Some(side), s.get(&r.source_id).map(|x| x.split));
        if r.used_for_calibration {
            assert_eq!(side, Side::Fit, "flagged row `{}` of a test source", r.id);
        }
        test_rows += usize::from(side == Side::Test);
    }
    assert!(test_rows > 0, "the split holds out whole sources");
    // The bounds file and the split cover the same validation files.
    let bounds = std::fs::read_to_string(root().join("data/validation/bounds.toml")).unwrap();
    for f in &s.files {
        assert!(bounds.contains(&format!("data/validation/{f}")), "{f}");
    }
}

#[test]
fn a_flagged_row_moved_into_a_test_source_is_refused() {
    let s = split_file();
    let mut rows = xpusim_validate::read(&root().join("data/validation/deepbench.csv")).unwrap();
    rows[0].used_for_calibration = true;
    let e = s.assign("deepbench.csv", &rows).unwrap_err().to_string();
    assert!(e.contains(&rows[0].id) && e.contains("test source"), "{e}");
    rows[0].used_for_calibration = false;
    rows[0].source_id.clear();
    let e = s.assign("deepbench.csv", &rows).unwrap_err().to_string();
    assert!(e.contains(&rows[0].id) && e.contains("no source"), "{e}");
}

fn preset(name: &str) -> DeviceSpec {
    xpusim_hw::load_device(name).expect("preset loads")
}

/// The fitted matrix efficiencies equal what `xpusim calibrate --matrix-efficiency` derives
/// from the flagged rows of every shipped file.
#[test]
fn fitted_matrix_efficiencies_are_what_the_rule_gives_from_flagged_rows() {
    let s = split_file();
    let rows: Vec<Row> = shipped_files(&s)
        .iter()
        .flat_map(|f| xpusim_validate::read(f).unwrap())
        .collect();
    for name in ["a100-80gb", "mi210"] {
        let dev = preset(name);
        let e = efficiency::matrix_efficiency(&rows, &dev, None).expect("flagged GEMMs");
        assert_eq!(
            e.efficiency,
            dev.matrix.efficiency,
            "{name}: the rule gives {} (exact {:.4}) from {} flagged GEMMs",
            e.efficiency,
            e.exact,
            e.rows.len()
        );
        // Each of those rows is a fit row of a fit source.
        for id in &e.rows {
            let r = rows.iter().find(|r| &r.id == id).unwrap();
            assert_eq!(s.get(&r.source_id).map(|x| x.split), Some(Side::Fit));
        }
    }
}

/// The GH100 presets' FP8 matrix efficiency is what `xpusim calibrate --matrix-efficiency
/// --dtype fp8` derives from DeepGEMM's flagged H800 rows, and the H100 SXM and H200 (the
/// same die, clocks and 700 W) carry that value.
#[test]
fn fp8_matrix_efficiency_is_what_the_rule_gives_from_flagged_h800_rows() {
    let s = split_file();
    let rows: Vec<Row> = shipped_files(&s)
        .iter()
        .flat_map(|f| xpusim_validate::read(f).unwrap())
        .collect();
    let h800 = preset("h800");
    let e = efficiency::matrix_efficiency(&rows, &h800, Some(DType::Fp8)).expect("flagged GEMMs");
    let shipped = h800.matrix.efficiency_by_format.get(&DType::Fp8).copied();
    assert_eq!(
        Some(e.efficiency),
        shipped,
        "the rule gives {} (exact {:.4}) from {} flagged GEMMs",
        e.efficiency,
        e.exact,
        e.rows.len()
    );
    for id in &e.rows {
        let r = rows.iter().find(|r| &r.id == id).unwrap();
        assert_eq!(r.source_id, "deepgemm-h800");
        assert_eq!(s.get(&r.source_id).map(|x| x.split), Some(Side::Fit));
    }
    for name in ["h100-sxm", "h200"] {
        let d = preset(name);
        assert_eq!(
            d.matrix.efficiency_by_format.get(&DType::Fp8).copied(),
            shipped,
            "{name}"
        );
    }
    // The 16-bit efficiency is not what the FP8 rows say: the plain rule finds none of them.
    assert!(efficiency::matrix_efficiency(&rows, &h800, None).is_err());
}

/// `xpusim calibrate FILES --hw NAME [--families F] (rows marked used_for_calibration=yes)`:
/// the files, device and families of a curve's `source`.
fn command(source: &str) -> Option<(Vec<String>, String, Vec<String>)> {
    let cmd = source.split(" (rows marked").next()?;
    let mut words = cmd.strip_prefix("xpusim calibrate ")?.split_whitespace();
    let (mut files, mut hw, mut fams) = (Vec::new(), None, Vec::new());
    while let Some(w) = words.next() {
        match w {
            "--hw" => hw = words.next().map(String::from),
            "--families" => {
                fams = words
                    .next()?
                    .split(',')
                    .map(String::from)
                    .collect::<Vec<_>>()
            }
            f => files.push(f.to_string()),
        }
    }
    Some((files, hw?, fams))
}

#[test]
fn every_shipped_calibration_curve_regenerates_from_the_flagged_rows() {
    let mut checked = 0;
    for (file, text) in xpusim_hw::registry::DEVICES {
        let Ok(dev) = DeviceSpec::from_toml(file, text) else {
            continue;
        };
        // Curves grouped by the command that made them (one `xpusim calibrate` run).
        let mut groups: Vec<(String, Vec<xpusim_hw::CalibrationCurve>)> = Vec::new();
        for c in &dev.calibration {
            let cmd = c
                .source
                .split(" (rows marked used_for_calibration=yes)")
                .next()
                .unwrap_or("")
                .to_string();
            match groups.iter_mut().find(|(k, _)| *k == cmd) {
                Some((_, v)) => v.push(c.clone()),
                None => groups.push((cmd, vec![c.clone()])),
            }
        }
        for (cmd, shipped) in groups {
            let (files, hw, fams) = command(&format!("{cmd} (rows marked"))
                .unwrap_or_else(|| panic!("{file}: curve source `{cmd}` is no calibrate command"));
            assert_eq!(
                preset(&hw).name,
                dev.name,
                "{file}: `{cmd}` fits another device"
            );
            let rows = read_all(&files.iter().map(String::as_str).collect::<Vec<_>>());
            let mut got = fit::fit(
                &rows,
                &dev,
                true,
                &format!("{cmd} (rows marked used_for_calibration=yes)"),
            );
            if !fams.is_empty() {
                got.curves
                    .retain(|c| fams.iter().any(|f| f == c.family.name()));
            }
            // A later run may have replaced some of a run's curves: each curve still
            // shipped must be exactly what its command regenerates.
            for c in &shipped {
                let again = got
                    .curves
                    .iter()
                    .find(|g| g.family == c.family && g.op == c.op);
                assert_eq!(
                    again.map(|g| fit::to_toml(std::slice::from_ref(g))),
                    Some(fit::to_toml(std::slice::from_ref(c))),
                    "{file}: the {} curve{} differs from what `{cmd}` regenerates",
                    c.family.name(),
                    c.op.as_deref()
                        .map(|o| format!(" of `{o}`"))
                        .unwrap_or_default()
                );
            }
            checked += shipped.len();
        }
    }
    assert!(checked > 0, "no shipped curve was checked");
}
