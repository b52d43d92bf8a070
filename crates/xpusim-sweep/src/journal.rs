//! The CSV journal: every finished point, appended and synced chunk by chunk. It is both
//! a results file and the resume state — a sweep started again reads it and skips what is
//! there. A line cut short by a kill (no trailing newline) is dropped and recomputed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::point::Row;
use crate::SweepError;

const MAGIC: &str = "# xpusim sweep journal v1; spec ";

/// CSV header: index, axis paths, status, metric columns.
pub fn header(axes: &[String], metrics: &[String]) -> Vec<String> {
    let mut h = vec!["index".to_string()];
    h.extend(axes.iter().cloned());
    h.push("status".into());
    h.extend(metrics.iter().cloned());
    h
}

/// One CSV field, quoted when it holds a comma, quote or newline (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Metrics as the shortest text that reads back to the same f64; NaN as empty.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v:e}")
    }
}

/// A row as one CSV line with its newline.
pub fn line(r: &Row) -> String {
    let mut s = r.index.to_string();
    for a in &r.axes {
        s.push(',');
        s.push_str(&field(a));
    }
    s.push(',');
    s.push_str(&field(&r.status));
    for m in &r.metrics {
        s.push(',');
        s.push_str(&number(*m));
    }
    s.push('\n');
    s
}

/// Splits one CSV line (no newline) into fields.
pub fn split(l: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = l.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    out.push(cur);
    Ok(out)
}

/// Parses a data line of a file with `n_axes` axis columns and `n_cols` columns.
pub fn parse_row(l: &str, n_axes: usize, n_cols: usize) -> Result<Row, String> {
    let f = split(l)?;
    if f.len() != n_cols {
        return Err(format!("expected {n_cols} fields, found {}", f.len()));
    }
    let index = f[0]
        .parse::<u64>()
        .map_err(|_| format!("bad index `{}`", f[0]))?;
    let metrics = f[n_axes + 2..]
        .iter()
        .map(|s| {
            if s.is_empty() {
                Ok(f64::NAN)
            } else {
                s.parse::<f64>().map_err(|_| format!("bad number `{s}`"))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Row {
        index,
        axes: f[1..=n_axes].to_vec(),
        status: f[n_axes + 1].clone(),
        metrics,
    })
}

/// The points a journal holds: each index's status, `None` for `ok` (the first line of an
/// index wins). Statuses only: a resumed million-point sweep need not hold its rows.
pub type Done = BTreeMap<u64, Option<Box<str>>>;

/// A row's status as [`Done`] keeps it.
pub fn status_of(r: &Row) -> Option<Box<str>> {
    (r.status != "ok").then(|| r.status.as_str().into())
}

/// The first two lines of a journal: its magic with the spec's fingerprint, and the header.
fn head_text(fingerprint: &str, header: &[String]) -> String {
    format!(
        "{MAGIC}{fingerprint}\n{}\n",
        header
            .iter()
            .map(|h| field(h))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Reads the complete data lines of the journal at `path`, streaming, in file order:
/// `f(byte offset, line without its newline, parsed row)`. Returns the length of the
/// complete part (a torn last line, cut short by a kill, is not part of it).
pub(crate) fn scan(
    path: &Path,
    fingerprint: &str,
    header: &[String],
    n_axes: usize,
    mut f: impl FnMut(u64, &str, Row) -> Result<(), SweepError>,
) -> Result<u64, SweepError> {
    let io = |e: std::io::Error| SweepError::io(path, e);
    let head = head_text(fingerprint, header);
    let mut r = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
    let mut start = Vec::with_capacity(head.len());
    (&mut r)
        .take(head.len() as u64)
        .read_to_end(&mut start)
        .map_err(io)?;
    if start != head.as_bytes() {
        let msg = if start.starts_with(MAGIC.as_bytes()) {
            "journal was written for a different sweep spec (or xpusim version); use another --out or delete it"
        } else {
            "not an xpusim sweep journal"
        };
        return Err(SweepError::Journal {
            file: path.display().to_string(),
            line: 1,
            msg: msg.into(),
        });
    }
    let mut offset = head.len() as u64;
    let mut text = String::new();
    for line in 3.. {
        text.clear();
        let n = r.read_line(&mut text).map_err(io)?;
        if n == 0 || !text.ends_with('\n') {
            break;
        }
        let l = text.trim_end_matches('\n').trim_end_matches('\r');
        let row = parse_row(l, n_axes, header.len()).map_err(|msg| SweepError::Journal {
            file: path.display().to_string(),
            line,
            msg,
        })?;
        f(offset, l, row)?;
        offset += n as u64;
    }
    Ok(offset)
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for the spec with `fingerprint`; returns
    /// it with the points already recorded.
    pub fn open(
        path: &Path,
        fingerprint: &str,
        header: &[String],
        n_axes: usize,
    ) -> Result<(Journal, Done), SweepError> {
        let io = |e: std::io::Error| SweepError::io(path, e);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut done = Done::new();
        if len == 0 {
            file.write_all(head_text(fingerprint, header).as_bytes())
                .map_err(io)?;
            file.sync_all().map_err(io)?;
        } else {
            let complete = scan(path, fingerprint, header, n_axes, |_, _, r| {
                done.entry(r.index).or_insert_with(|| status_of(&r));
                Ok(())
            })?;
            if complete < len {
                // A torn last line: cut it off so new rows start on a line of their own.
                file.set_len(complete).map_err(io)?;
                file.seek(SeekFrom::End(0)).map_err(io)?;
            }
        }
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
            },
            done,
        ))
    }

    /// Appends rows in one write and syncs them to disk.
    pub fn append(&mut self, rows: &[Row]) -> Result<(), SweepError> {
        let buf: String = rows.iter().map(line).collect();
        self.file
            .write_all(buf.as_bytes())
            .map_err(|e| SweepError::io(&self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| SweepError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let r = Row {
            index: 7,
            axes: vec!["[128, 128, 1]".into(), "1.5".into()],
            status: "invalid: field `x`: \"bad\", really".into(),
            metrics: vec![1.0 / 3.0, f64::NAN, 1e-300, 6.02e23],
        };
        let l = line(&r);
        let back = parse_row(l.trim_end_matches('\n'), 2, 8).unwrap();
        assert_eq!(back.index, 7);
        assert_eq!(back.axes, r.axes);
        assert_eq!(back.status, r.status);
        assert_eq!(back.metrics[0], r.metrics[0]);
        assert!(back.metrics[1].is_nan());
        assert_eq!(back.metrics[2..], r.metrics[2..]);
        assert!(parse_row("1,2", 2, 8).is_err());
    }
}
