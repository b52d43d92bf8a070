//! Every command the README and docs/ show parses with the real command line, and every
//! input file it names exists (issue #16: README examples used placeholder paths such as
//! `model.onnx` that failed on a fresh clone). The commands themselves are run by CI's
//! README check and by hand; here they are checked in milliseconds.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Options whose value is a file the command writes, not one it reads.
const OUTPUT_OPTIONS: &[&str] = &["--out", "--html", "--svg", "--csv", "--parquet", "--json"];

/// `xpusim …` / `cargo run --release -- …` lines in a Markdown file's code blocks, continuation lines
/// joined, comments dropped; lines with `[optional]` syntax or shell variables are usage
/// summaries, not commands, and are skipped.
fn commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut in_code = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let joined = if pending.is_empty() {
            line.to_string()
        } else {
            format!("{pending} {}", line.trim_start())
        };
        if let Some(stripped) = joined.strip_suffix('\\') {
            pending = stripped.to_string();
            continue;
        }
        pending.clear();
        let rest = joined
            .strip_prefix("cargo run --release -- ")
            .or_else(|| joined.strip_prefix("xpusim "));
        let Some(rest) = rest else { continue };
        let rest = rest.split(" #").next().unwrap_or("").trim();
        if rest.contains('[') || rest.contains('$') || rest.contains('|') {
            continue;
        }
        out.push(rest.split_whitespace().map(str::to_string).collect());
    }
    out
}

fn is_input_path(arg: &str) -> bool {
    !arg.starts_with('-')
        && (arg.contains('/')
            || [".onnx", ".json", ".csv", ".cfg", ".toml"]
                .iter()
                .any(|e| arg.ends_with(e)))
}

#[test]
fn readme_and_docs_commands_parse_and_name_real_files() {
    let mut files = vec![repo().join("README.md")];
    for e in std::fs::read_dir(repo().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    let shared = repo().join("../shared").is_dir();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(shared || !ci, "../shared is missing under CI=true");
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for argv in commands(&text) {
            let shown = format!("{}: xpusim {}", f.display(), argv.join(" "));
            if let Err(e) = xpusim_cli::parse_cli(&argv) {
                panic!("{shown}\n{e}");
            }
            for (i, a) in argv.iter().enumerate() {
                let writes = i > 0 && OUTPUT_OPTIONS.contains(&argv[i - 1].as_str());
                if writes || !is_input_path(a) {
                    continue;
                }
                let p = repo().join(a);
                if a.starts_with("../shared") && !shared {
                    eprintln!("skipping {a}: ../shared is absent");
                    continue;
                }
                assert!(p.exists(), "{shown}: `{a}` does not exist");
            }
            checked += 1;
        }
    }
    // The README alone shows ~30 commands; a parser change that skipped them all would pass.
    assert!(checked >= 30, "only {checked} commands found");
}
