//! The frozen split of validation rows by measurement source (`data/validation/split.toml`).
//!
//! A **source** is one dataset measured on one device with one library or harness (the
//! Vidur profiles of the A100, LLMCompass's PyTorch sweeps on the MI210, DeepBench's cuDNN
//! and cuBLAS kernels on the TITAN Xp, one MLPerf submission); each row names its source in
//! the `source_id` column. The split puts every source wholly on one side:
//! - `fit`: some calibration used rows of the source (those rows are marked
//!   `used_for_calibration = yes`); its other rows are *in-distribution* held-out rows;
//! - `test`: no row of the source informed any constant, curve or floor; its rows are
//!   *cross-source* rows.
//!
//! Invariants (checked by [`SplitFile::assign`]): every row of a covered file names a
//! source of the split; a row marked `used_for_calibration = yes` belongs to a `fit`
//! source; every `fit` source has at least one such row (it says what was fitted from it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::Row;
use crate::ValidateError;

/// Which side of the split a source is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Fit,
    Test,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Fit => "fit",
            Side::Test => "test",
        }
    }
}

/// One measurement source.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The key rows give in `source_id`.
    pub id: String,
    pub split: Side,
    /// The dataset, device and library or harness, in words.
    pub description: String,
    /// `fit` sources: what was derived from their flagged rows (preset constants, curves,
    /// harness floors). Empty for `test` sources.
    #[serde(default)]
    pub fitted: String,
}

/// The split file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitFile {
    /// The validation files the split covers, relative to the split file's directory.
    pub files: Vec<String>,
    pub source: Vec<Source>,
    /// Where it was read from (its directory resolves `files`).
    #[serde(skip)]
    pub path: PathBuf,
}

impl SplitFile {
    /// Parses a split; `file` names it in messages and resolves its `files`.
    pub fn parse(file: &Path, text: &str) -> Result<SplitFile, ValidateError> {
        let err = |msg: String| ValidateError::Split {
            file: file.display().to_string(),
            msg,
        };
        let mut s: SplitFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        s.path = file.to_path_buf();
        let mut seen = BTreeSet::new();
        for src in &s.source {
            if !seen.insert(src.id.as_str()) {
                return Err(err(format!("source `{}` is listed twice", src.id)));
            }
            match src.split {
                Side::Fit if src.fitted.trim().is_empty() => {
                    return Err(err(format!(
                        "fit source `{}` must say what was fitted from it (`fitted`)",
                        src.id
                    )))
                }
                Side::Test if !src.fitted.trim().is_empty() => {
                    return Err(err(format!(
                        "test source `{}` has `fitted`: a source something was fitted on is a fit source",
                        src.id
                    )))
                }
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn read(path: &Path) -> Result<SplitFile, ValidateError> {
        let text = std::fs::read_to_string(path).map_err(|e| ValidateError::Io {
            file: path.display().to_string(),
            msg: e.to_string(),
        })?;
        SplitFile::parse(path, &text)
    }

    /// Whether `csv` is one of the files the split covers (same file on disk).
    pub fn covers(&self, csv: &Path) -> bool {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let Ok(csv) = csv.canonicalize() else {
            return false;
        };
        self.files
            .iter()
            .any(|f| dir.join(f).canonicalize().is_ok_and(|p| p == csv))
    }

    pub fn get(&self, id: &str) -> Option<&Source> {
        self.source.iter().find(|s| s.id == id)
    }

    /// The side of each of `rows` (all from covered files; `file` names them in messages),
    /// checking the invariants in the [module doc](self).
    pub fn assign(&self, file: &str, rows: &[Row]) -> Result<Vec<Side>, ValidateError> {
        let err = |row: &Row, msg: String| ValidateError::Field {
            file: file.into(),
            line: row.line,
            column: "source_id".into(),
            msg: format!("row `{}`: {msg}", row.id),
        };
        rows.iter()
            .map(|r| {
                if r.source_id.is_empty() {
                    return Err(err(
                        r,
                        format!(
                            "no source: every row of a file the split {} covers names its \
                             source",
                            self.path.display()
                        ),
                    ));
                }
                let src = self.get(&r.source_id).ok_or_else(|| {
                    err(
                        r,
                        format!(
                            "source `{}` is not in the split {}",
                            r.source_id,
                            self.path.display()
                        ),
                    )
                })?;
                if r.used_for_calibration && src.split == Side::Test {
                    return Err(err(
                        r,
                        format!(
                            "marked used_for_calibration=yes but its source `{}` is a test \
                             source: test sources are never fitted",
                            src.id
                        ),
                    ));
                }
                Ok(src.split)
            })
            .collect()
    }

    /// Checks, over every row of the covered files, that each `fit` source has a flagged
    /// row and each source has a row.
    pub fn check_complete(&self, rows: &[&Row]) -> Result<(), ValidateError> {
        let mut flagged: BTreeMap<&str, usize> = BTreeMap::new();
        let mut any: BTreeSet<&str> = BTreeSet::new();
        for r in rows {
            any.insert(&r.source_id);
            if r.used_for_calibration {
                *flagged.entry(&r.source_id).or_default() += 1;
            }
        }
        let err = |msg: String| ValidateError::Split {
            file: self.path.display().to_string(),
            msg,
        };
        for s in &self.source {
            if !any.contains(s.id.as_str()) {
                return Err(err(format!("source `{}` has no row", s.id)));
            }
            if s.split == Side::Fit && !flagged.contains_key(s.id.as_str()) {
                return Err(err(format!(
                    "fit source `{}` has no row marked used_for_calibration=yes: a source \
                     nothing was fitted on is a test source",
                    s.id
                )));
            }
        }
        Ok(())
    }
}

/// Rows read from validation files, with the side of the split of each where a split
/// covers its file.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub rows: Vec<Row>,
    pub sides: Vec<Option<Side>>,
}

/// Reads `files`; where `split` covers a file its rows get their side (and a row it cannot
/// place is an error naming the row). With every covered file read, the split's
/// completeness is checked too.
pub fn load(files: &[PathBuf], split: Option<&SplitFile>) -> Result<Loaded, ValidateError> {
    let mut out = Loaded::default();
    let mut covered_rows = Vec::new();
    let mut covered_files = 0;
    for f in files {
        let rows = crate::data::read(f)?;
        match split.filter(|s| s.covers(f)) {
            Some(s) => {
                let sides = s.assign(&f.display().to_string(), &rows)?;
                out.sides.extend(sides.into_iter().map(Some));
                covered_files += 1;
                covered_rows.extend(rows.iter().cloned());
            }
            None => out.sides.extend(rows.iter().map(|_| None)),
        }
        out.rows.extend(rows);
    }
    if let Some(s) = split {
        if covered_files == s.files.len() {
            s.check_complete(&covered_rows.iter().collect::<Vec<_>>())?;
        }
    }
    Ok(out)
}

/// The split beside a validation file: `split.toml` in its directory, if there is one.
pub fn beside(file: &Path) -> Option<PathBuf> {
    let p = file.parent().unwrap_or(Path::new(".")).join("split.toml");
    p.is_file().then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,used_for_calibration,source_id";

    fn split() -> SplitFile {
        SplitFile::parse(
            Path::new("split.toml"),
            r#"
files = ["a.csv"]
[[source]]
id = "lab-gpu"
split = "fit"
description = "lab sweeps on the GPU"
fitted = "matrix.efficiency"
[[source]]
id = "paper-gpu"
split = "test"
description = "a paper's numbers"
"#,
        )
        .unwrap()
    }

    fn rows(body: &str) -> Vec<Row> {
        crate::data::parse("a.csv", &format!("{HEAD}\n{body}")).unwrap()
    }

    #[test]
    fn rows_get_their_source_side() {
        let r = rows(
            "r1,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,yes,lab-gpu\n\
             r2,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,no,lab-gpu\n\
             r3,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,no,paper-gpu\n",
        );
        let s = split();
        assert_eq!(
            s.assign("a.csv", &r).unwrap(),
            vec![Side::Fit, Side::Fit, Side::Test]
        );
        s.check_complete(&r.iter().collect::<Vec<_>>()).unwrap();
    }

    #[test]
    fn a_row_without_a_known_source_is_an_error_naming_it() {
        let s = split();
        let e = s
            .assign(
                "a.csv",
                &rows("r1,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,no,\n"),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a.csv:2: column `source_id`: row `r1`: no source"),
            "{e}"
        );
        let e = s
            .assign(
                "a.csv",
                &rows("r9,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,no,elsewhere\n"),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row `r9`: source `elsewhere` is not in the split"),
            "{e}"
        );
    }

    #[test]
    fn a_flagged_row_of_a_test_source_is_an_error() {
        let e = split()
            .assign(
                "a.csv",
                &rows("r3,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,yes,paper-gpu\n"),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("row `r3`") && e.contains("test source"), "{e}");
    }

    #[test]
    fn a_fit_source_needs_a_flagged_row_and_says_what_was_fitted() {
        let r = rows(
            "r2,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,no,lab-gpu\n\
             r3,a100,1,,fp16,membw:bytes=1,kernel,1,,,latency_ms,1,ms,s,no,paper-gpu\n",
        );
        let e = split()
            .check_complete(&r.iter().collect::<Vec<_>>())
            .unwrap_err()
            .to_string();
        assert!(e.contains("fit source `lab-gpu` has no row marked"), "{e}");
        let e = SplitFile::parse(
            Path::new("s.toml"),
            "files = []\n[[source]]\nid = \"x\"\nsplit = \"fit\"\ndescription = \"d\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("must say what was fitted"), "{e}");
        let e = SplitFile::parse(
            Path::new("s.toml"),
            "files = []\n[[source]]\nid = \"x\"\nsplit = \"train\"\ndescription = \"d\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("s.toml:"), "{e}");
    }
}
