//! Interrupting a sweep and running it again gives exactly the results of an
//! uninterrupted run.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use xpusim_sweep::{merge, run, RunOptions, Shard, SweepSpec};

/// A small spec: 3 × 2 × 2 = 12 points on two cheap workloads.
const SPEC: &str = r#"
name = "resume-test"
base = "h100-sxm"
objectives = ["throughput", "energy", "cost"]

[[axis]]
path = "cores"
values = [66, 132, 200]

[[axis]]
path = "memory[2].bandwidth_gbps"
from = 2000
to = 4000
steps = 2

[[axis]]
path = "core_cluster"
values = [1, 2]

[[workload]]
model = "resnet-50"
batch = 8

[[workload]]
model = "llama-2-7b"
phase = "decode"
batch = 4
context = 512
"#;

fn spec() -> SweepSpec {
    SweepSpec::parse("test.toml", SPEC, Path::new(".")).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xpusim-sweep-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

fn opts(dir: &Path) -> RunOptions {
    let mut o = RunOptions::new(dir);
    o.chunk = 3;
    o
}

#[test]
fn interrupted_and_resumed_equals_uninterrupted() {
    let s = spec();
    assert_eq!(s.points(), 12);
    let whole = tmp("whole");
    let r = run(&s, &opts(&whole)).unwrap();
    assert!(
        r.finished && r.computed == 12 && r.failed_points == 0,
        "{r:?}"
    );

    // Stop after 5 points, then tear the last journal line as a kill mid-write would.
    let cut = tmp("cut");
    let mut o = opts(&cut);
    o.max_points = Some(5);
    let r1 = run(&s, &o).unwrap();
    assert!(!r1.finished && r1.computed == 5);
    assert!(!cut.join("results.csv").exists());
    let j = cut.join("journal.csv");
    let text = fs::read_to_string(&j).unwrap();
    let last_start = text[..text.len() - 1].rfind('\n').unwrap() + 1;
    fs::write(&j, &text[..last_start + (text.len() - last_start) / 2]).unwrap();

    let r2 = run(&s, &opts(&cut)).unwrap();
    assert!(r2.finished);
    assert_eq!(r2.already_done, 4, "the torn row is recomputed");
    assert_eq!(r2.computed, 8);
    let a = fs::read(whole.join("results.csv")).unwrap();
    let b = fs::read(cut.join("results.csv")).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        fs::read(whole.join("pareto.csv")).unwrap(),
        fs::read(cut.join("pareto.csv")).unwrap()
    );
    assert!(!r2.pareto.is_empty());

    // A third run has nothing to do and changes nothing.
    let r3 = run(&s, &opts(&cut)).unwrap();
    assert_eq!(r3.computed, 0);
    assert_eq!(fs::read(cut.join("results.csv")).unwrap(), a);
    fs::remove_dir_all(&whole).ok();
    fs::remove_dir_all(&cut).ok();
}

#[test]
fn shards_partition_the_points_and_merge_to_the_whole() {
    let s = spec();
    let whole = tmp("whole-s");
    run(&s, &opts(&whole)).unwrap();
    let dir = tmp("shards");
    let mut lines: Vec<String> = Vec::new();
    for i in 0..3 {
        let mut o = opts(&dir);
        o.shard = Shard { index: i, count: 3 };
        let r = run(&s, &o).unwrap();
        assert_eq!(r.shard_points, 4);
        let t = fs::read_to_string(dir.join(format!("results.shard-{i}-of-3.csv"))).unwrap();
        lines.extend(t.lines().skip(1).map(str::to_string));
    }
    lines.sort_by_key(|l| l.split(',').next().unwrap().parse::<u64>().unwrap());
    let t = fs::read_to_string(whole.join("results.csv")).unwrap();
    let want: Vec<String> = t.lines().skip(1).map(str::to_string).collect();
    assert_eq!(lines, want);
    // Joining the shard journals writes the unsharded files, byte for byte.
    let m = merge(&s, &dir, 3, None).unwrap();
    assert!(m.finished && m.total_points == 12);
    for f in ["results.csv", "pareto.csv", "results.parquet"] {
        assert_eq!(
            fs::read(whole.join(f)).unwrap(),
            fs::read(dir.join(f)).unwrap(),
            "{f}"
        );
    }
    fs::remove_dir_all(&whole).ok();
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn merge_refuses_an_unfinished_or_missing_shard() {
    let s = spec();
    let dir = tmp("merge-partial");
    let mut o = opts(&dir);
    o.shard = Shard { index: 0, count: 2 };
    run(&s, &o).unwrap();
    let e = merge(&s, &dir, 2, None).unwrap_err().to_string();
    assert!(
        e.contains("journal.shard-1-of-2.csv") && e.contains("missing"),
        "{e}"
    );
    o.shard = Shard { index: 1, count: 2 };
    o.max_points = Some(2);
    run(&s, &o).unwrap();
    let e = merge(&s, &dir, 2, None).unwrap_err().to_string();
    assert!(e.contains("2 of 6 points") && e.contains("1/2"), "{e}");
    assert!(!dir.join("results.csv").exists());
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_journal_from_another_spec_is_refused() {
    let dir = tmp("other");
    let mut o = opts(&dir);
    o.max_points = Some(1);
    run(&spec(), &o).unwrap();
    let other = SweepSpec::parse(
        "b.toml",
        &SPEC.replace("[66, 132, 200]", "[66, 132]"),
        Path::new("."),
    )
    .unwrap();
    let e = run(&other, &opts(&dir)).unwrap_err().to_string();
    assert!(
        e.contains("different sweep spec") && e.contains("journal.csv"),
        "{e}"
    );
    // A stray line in the middle of a journal is an error naming its line.
    let j = dir.join("journal.csv");
    let mut f = fs::OpenOptions::new().append(true).open(&j).unwrap();
    f.write_all(b"garbage\n1,2\n").unwrap();
    let e = run(&spec(), &opts(&dir)).unwrap_err().to_string();
    assert!(e.contains("journal.csv:4"), "{e}");
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_specs_name_what_is_wrong() {
    let bad = |from: &str, to: &str| {
        SweepSpec::parse("s.toml", &SPEC.replace(from, to), Path::new("."))
            .unwrap_err()
            .to_string()
    };
    let e = bad("path = \"cores\"", "path = \"coers\"");
    assert!(e.contains("s.toml") && e.contains("coers"), "{e}");
    let e = bad("memory[2].bandwidth_gbps", "memory[7].bandwidth_gbps");
    assert!(e.contains("memory[7]") && e.contains("out of range"), "{e}");
    let e = bad("values = [66, 132, 200]", "values = [\"many\"]");
    assert!(e.contains("cores") && e.contains("many"), "{e}");
    let e = bad("model = \"resnet-50\"", "model = \"resnet-5O\"");
    assert!(e.contains("resnet-5O"), "{e}");
    let e = bad("base = \"h100-sxm\"", "base = \"h1000\"");
    assert!(e.contains("h1000"), "{e}");
    let e = bad("\"cost\"]", "\"speed\"]");
    assert!(e.contains("speed"), "{e}");
}

#[test]
fn invalid_points_get_a_status_not_a_crash() {
    // core_cluster = 2 with cores = 1 is invalid; the row says so.
    let src = SPEC.replace("[66, 132, 200]", "[1, 132]");
    let s = SweepSpec::parse("s.toml", &src, Path::new(".")).unwrap();
    let dir = tmp("invalid");
    let r = run(&s, &opts(&dir)).unwrap();
    assert!(r.finished);
    assert_eq!(r.failed_points, 2);
    let t = fs::read_to_string(dir.join("results.csv")).unwrap();
    assert!(t.contains("invalid: field `core_cluster`"), "{t}");
    assert!(r.pareto.iter().all(|p| p.status == "ok"));
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn parquet_holds_the_same_rows_as_the_csv() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let s = spec();
    let dir = tmp("parquet");
    let r = run(&s, &opts(&dir)).unwrap();
    let f = fs::File::open(dir.join("results.parquet")).unwrap();
    let reader = SerializedFileReader::new(f).unwrap();
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows(), 12);
    let names: Vec<String> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names, r.header);
    let csv = fs::read_to_string(dir.join("results.csv")).unwrap();
    let area_col = r.header.iter().position(|h| h == "die_area_mm2").unwrap();
    for (row, line) in reader.get_row_iter(None).unwrap().zip(csv.lines().skip(1)) {
        let row = row.unwrap();
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(row.get_long(0).unwrap().to_string(), fields[0]);
        assert_eq!(row.get_string(4).unwrap(), "ok");
        let area: f64 = fields[area_col].parse().unwrap();
        assert_eq!(row.get_double(area_col).unwrap(), area);
    }
    fs::remove_dir_all(&dir).ok();
}

/// Results are streamed from the journal in index order: a journal whose lines are out of
/// order, with an index recorded twice (the first line wins, as on resume), writes the
/// same files as an orderly one.
#[test]
fn a_shuffled_journal_with_a_repeated_index_gives_the_same_results() {
    let s = spec();
    let whole = tmp("orderly");
    run(&s, &opts(&whole)).unwrap();
    let text = fs::read_to_string(whole.join("journal.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let (head, rows) = lines.split_at_mut(2);
    rows.reverse();
    rows.swap(0, 5);
    // A second, different line for the index now written first: it must be ignored.
    let first = rows[0];
    let (idx, rest) = first.split_once(',').unwrap();
    let bogus = format!(
        "{idx},{}",
        rest.replacen("ok", "invalid: later duplicate", 1)
    );
    let mut shuffled = head.join("\n") + "\n" + &rows.join("\n") + "\n";
    shuffled.push_str(&bogus);
    shuffled.push('\n');
    let dir = tmp("shuffled");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("journal.csv"), shuffled).unwrap();
    let m = merge(&s, &dir, 1, None).unwrap();
    assert_eq!(m.failed_points, 0);
    for f in ["results.csv", "pareto.csv", "results.parquet"] {
        assert_eq!(
            fs::read(whole.join(f)).unwrap(),
            fs::read(dir.join(f)).unwrap(),
            "{f}"
        );
    }
    fs::remove_dir_all(&whole).ok();
    fs::remove_dir_all(&dir).ok();
}
