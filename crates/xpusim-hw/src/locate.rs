//! The one place hardware files are parsed and their errors located: every schema (device,
//! system, PIM memory) reports a bad value as `file:line: field `path`: what was expected`,
//! with the line found by walking the document with `toml_edit` to the deepest key that
//! exists.

use serde::de::DeserializeOwned;

use crate::HwError;

/// Largest value any rate, bandwidth, capacity, latency or power may take: far beyond any
/// hardware, small enough that products with op sizes stay finite.
pub(crate) const ABSURD: f64 = 1e12;

/// Smallest value a positive rate, bandwidth, capacity or power may take: 1/[`ABSURD`].
/// Below it nothing is hardware (a bandwidth of 10⁻¹² GB/s is a byte every quarter hour)
/// and divisions by it overflow to infinity on real op sizes.
pub(crate) const TINY: f64 = 1.0 / ABSURD;

/// `v` is a positive number a hardware file may hold: finite, in [[`TINY`], [`ABSURD`]).
pub(crate) fn plausible_positive(v: f64) -> bool {
    v.is_finite() && (TINY..ABSURD).contains(&v)
}

/// `v` is a non-negative number a hardware file may hold: finite, in [0, [`ABSURD`]).
pub(crate) fn plausible_non_negative(v: f64) -> bool {
    v.is_finite() && (0.0..ABSURD).contains(&v)
}

/// `v` as an error message should show it: plain when it reads well, in scientific notation
/// when it is very large or very small (`1e-308`, not three hundred zeros).
pub(crate) fn show(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !a.is_finite() || (1e-4..1e9).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// A path segment into the TOML document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Idx(usize),
}

/// `memory[2].bandwidth_gbps` for `[Key("memory"), Idx(2), Key("bandwidth_gbps")]`.
pub(crate) fn render(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for p in path {
        match p {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Idx(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// 1-based line of the value at `path`, or of its closest existing parent; 1 if unknown.
pub(crate) fn locate(src: &str, path: &[Seg<'_>]) -> usize {
    let Ok(doc) = src.parse::<toml_edit::ImDocument<String>>() else {
        return 1;
    };
    let mut item: &toml_edit::Item = doc.as_item();
    let mut best = None;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => item.get(*k),
            Seg::Idx(i) => item.get(*i),
        };
        match next {
            Some(n) => {
                if let Some(sp) = n.span() {
                    best = Some(sp.start);
                }
                item = n;
            }
            None => break,
        }
    }
    best.map(|b| src[..b.min(src.len())].matches('\n').count() + 1)
        .unwrap_or(1)
}

/// Deserialises a hardware file; serde's message (which names the field and line) is kept
/// on one line.
pub(crate) fn parse<T: DeserializeOwned>(file: &str, src: &str) -> Result<T, HwError> {
    toml::from_str(src).map_err(|e| HwError::Parse {
        file: file.to_string(),
        msg: e.to_string().trim_end().replace('\n', " | "),
    })
}

/// Checks of one file's values, each error naming file, line and field.
pub(crate) struct Fields<'a> {
    pub file: &'a str,
    pub src: &'a str,
}

impl Fields<'_> {
    pub fn bad(&self, path: &[Seg<'_>], msg: String) -> HwError {
        HwError::Invalid {
            file: self.file.to_string(),
            line: locate(self.src, path),
            field: render(path),
            msg,
        }
    }

    /// Finite, in [[`TINY`], [`ABSURD`]).
    pub fn positive(&self, path: &[Seg<'_>], v: f64) -> Result<(), HwError> {
        if !plausible_positive(v) {
            return Err(self.bad(
                path,
                format!(
                    "expected a positive number from {TINY:e} to {ABSURD:e}, got {}",
                    show(v)
                ),
            ));
        }
        Ok(())
    }

    /// Finite, at least zero and below [`ABSURD`].
    pub fn non_negative(&self, path: &[Seg<'_>], v: f64) -> Result<(), HwError> {
        if !plausible_non_negative(v) {
            return Err(self.bad(
                path,
                format!("expected a number from 0 to {ABSURD:e}, got {}", show(v)),
            ));
        }
        Ok(())
    }

    /// In (0, 1].
    pub fn fraction(&self, path: &[Seg<'_>], v: f64) -> Result<(), HwError> {
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            return Err(self.bad(
                path,
                format!("expected a fraction in (0, 1], got {}", show(v)),
            ));
        }
        Ok(())
    }

    /// An integer count of at least 1.
    pub fn count(&self, path: &[Seg<'_>], v: u64) -> Result<(), HwError> {
        if v == 0 {
            return Err(self.bad(path, "expected at least 1".into()));
        }
        Ok(())
    }
}
