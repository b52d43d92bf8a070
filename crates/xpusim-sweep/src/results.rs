//! A finished sweep's (or shard's) results CSV, Parquet and Pareto front, written from its
//! journals, streaming.
//!
//! Two passes over the journals: the first keeps, per point, only where its line is and its
//! objective values (about 50 bytes a point), which is all the Pareto front needs; the
//! second reads the lines back in index order (without seeking when a journal is already in
//! order, as an uninterrupted run's is) and writes each to the CSV as it was journalled and
//! to the Parquet row group being built. A million-point sweep finishes in tens of MB.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::journal::{self, parse_row, scan};
use crate::pareto::{front, Objective};
use crate::point::Row;
use crate::run::{top_problems, Shard};
use crate::SweepError;

/// What the results hold, besides the files.
pub(crate) struct Finished {
    /// results CSV, Parquet and Pareto CSV.
    pub outputs: Vec<PathBuf>,
    /// Front rows, in index order.
    pub pareto: Vec<Row>,
    pub failed: u64,
    pub problems: Vec<(String, u64)>,
}

/// Where one point's journal line is.
#[derive(Clone, Copy)]
struct Loc {
    index: u64,
    journal: usize,
    offset: u64,
    len: usize,
    /// Position of its objective values in the first pass's list.
    seen: usize,
}

/// Writes `results{sfx}.csv`, `.parquet` and `pareto{sfx}.csv` in `out_dir` from the points
/// below `total` that each journal's shard owns (the first line of an index wins).
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    out_dir: &Path,
    sfx: &str,
    header: &[String],
    n_axes: usize,
    objectives: &[Objective],
    fingerprint: &str,
    journals: &[(PathBuf, Shard)],
    total: u64,
) -> Result<Finished, SweepError> {
    let cols: Vec<usize> = objectives
        .iter()
        .map(|ob| {
            header
                .iter()
                .position(|h| h == ob.column())
                .map(|p| p - n_axes - 2)
                .ok_or_else(|| SweepError::Other(format!("no column for objective {}", ob.name())))
        })
        .collect::<Result<_, _>>()?;
    // Pass 1: locations and objective values.
    let mut locs: Vec<Loc> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    for (j, (path, shard)) in journals.iter().enumerate() {
        scan(path, fingerprint, header, n_axes, |offset, line, r| {
            if r.index < total && r.index % shard.count == shard.index {
                locs.push(Loc {
                    index: r.index,
                    journal: j,
                    offset,
                    len: line.len(),
                    seen: locs.len(),
                });
                values.extend(cols.iter().map(|c| r.metrics[*c]));
            }
            Ok(())
        })?;
    }
    // Index order; a stable sort keeps the first line of a repeated index first.
    locs.sort_by_key(|l| l.index);
    locs.dedup_by_key(|l| l.index);
    // A point is a candidate when its chosen objectives were computed, even if some other
    // column failed (e.g. no cost for a base without a die area).
    let k = cols.len();
    let pts: Vec<Vec<f64>> = locs
        .iter()
        .map(|l| values[l.seen * k..(l.seen + 1) * k].to_vec())
        .collect();
    drop(values);
    let max: Vec<bool> = objectives.iter().map(|o| o.maximise()).collect();
    let on_front: BTreeSet<u64> = front(&pts, &max)
        .into_iter()
        .map(|i| locs[i].index)
        .collect();
    drop(pts);

    // Pass 2: every line in index order into the CSV and the Parquet file.
    let csv = out_dir.join(format!("results{sfx}.csv"));
    let pq = out_dir.join(format!("results{sfx}.parquet"));
    let tmp = csv.with_extension("csv.tmp");
    let io_tmp = |e: std::io::Error| SweepError::io(&tmp, e);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io_tmp)?);
    write_header(&mut out, header).map_err(io_tmp)?;
    let mut sink = crate::parquet_out::Sink::create(&pq, header, n_axes)?;
    let mut readers: Vec<(BufReader<File>, u64)> = journals
        .iter()
        .map(|(p, _)| {
            File::open(p)
                .map(|f| (BufReader::with_capacity(1 << 20, f), u64::MAX))
                .map_err(|e| SweepError::io(p, e))
        })
        .collect::<Result<_, _>>()?;
    let mut pareto = Vec::with_capacity(on_front.len());
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed = 0u64;
    let mut line = Vec::new();
    for l in &locs {
        let path = &journals[l.journal].0;
        let io = |e: std::io::Error| SweepError::io(path, e);
        let (reader, at) = &mut readers[l.journal];
        if *at != l.offset {
            reader.seek(SeekFrom::Start(l.offset)).map_err(io)?;
        }
        line.resize(l.len + 1, 0);
        reader.read_exact(&mut line).map_err(io)?;
        *at = l.offset + line.len() as u64;
        out.write_all(&line).map_err(io_tmp)?;
        let text = std::str::from_utf8(&line[..l.len])
            .map_err(|e| SweepError::io(path, std::io::Error::other(e)))?;
        let r = parse_row(text, n_axes, header.len()).map_err(SweepError::Other)?;
        if r.status != "ok" {
            failed += 1;
            *statuses.entry(r.status.clone()).or_default() += 1;
        }
        if on_front.contains(&r.index) {
            pareto.push(r.clone());
        }
        sink.push(r)?;
    }
    out.into_inner()
        .map_err(|e| SweepError::io(&tmp, e.into_error()))?
        .sync_all()
        .map_err(io_tmp)?;
    std::fs::rename(&tmp, &csv).map_err(|e| SweepError::io(&csv, e))?;
    sink.close()?;
    let pp = out_dir.join(format!("pareto{sfx}.csv"));
    write_rows(&pp, header, &pareto)?;
    Ok(Finished {
        outputs: vec![csv, pq, pp],
        pareto,
        failed,
        problems: top_problems(statuses),
    })
}

fn write_header(w: &mut impl Write, header: &[String]) -> std::io::Result<()> {
    let h = header
        .iter()
        .map(|h| journal::field(h))
        .collect::<Vec<_>>()
        .join(",");
    w.write_all(h.as_bytes())?;
    w.write_all(b"\n")
}

/// Writes a complete CSV next to `path` and renames it into place, so a reader never sees
/// half a file.
fn write_rows(path: &Path, header: &[String], rows: &[Row]) -> Result<(), SweepError> {
    let tmp = path.with_extension("csv.tmp");
    let io = |e: std::io::Error| SweepError::io(&tmp, e);
    let mut w = BufWriter::new(File::create(&tmp).map_err(io)?);
    write_header(&mut w, header).map_err(io)?;
    for r in rows {
        w.write_all(journal::line(r).as_bytes()).map_err(io)?;
    }
    w.flush().map_err(io)?;
    drop(w);
    std::fs::rename(&tmp, path).map_err(|e| SweepError::io(path, e))
}
