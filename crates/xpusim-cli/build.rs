//! Builds the browser explorer's engine: `crates/xpusim-wasm` (this crate's own commands,
//! behind a JSON door) compiled to `wasm32-wasip1` with the `explorer` profile,
//! gzipped and base64-encoded into `OUT_DIR`, where `xpusim explorer` includes it in the
//! page it writes. The page holds the very commands this binary runs, so its numbers are
//! the terminal's.
//!
//! The nested `cargo build` uses its own target directory (`target/explorer-wasm`), so it
//! never waits on the lock of the build that runs this script. Without the wasm32 target
//! (`rustup target add wasm32-wasip1`) the binary still builds, with a warning,
//! and `xpusim explorer` says what to install; under `CI=true` that is an error. Set
//! `XPUSIM_NO_EXPLORER=1` to skip the nested build while iterating on other crates.

use std::env;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(xpusim_explorer_wasm)");
    println!("cargo:rerun-if-env-changed=XPUSIM_NO_EXPLORER");
    println!("cargo:rerun-if-env-changed=CI");
    let target = env::var("TARGET").unwrap_or_default();
    // The engine inside the page writes no page.
    if target.starts_with("wasm32") {
        return;
    }
    if env::var_os("XPUSIM_NO_EXPLORER").is_some_and(|v| v != "0") {
        println!("cargo:warning=XPUSIM_NO_EXPLORER is set: `xpusim explorer` is not built in");
        return;
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/xpusim-cli sits two levels below the workspace root")
        .to_path_buf();
    // The wasm is built from every crate below the CLI, the explorer's page and the lock.
    for p in ["crates", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("explorer-wasm");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--profile",
            "explorer",
            "--target",
            "wasm32-wasip1",
        ])
        .args(["-p", "xpusim-wasm", "--target-dir"])
        .arg(&target_dir);
    // Flags meant for the host build (clippy's wrapper, coverage or target-cpu flags) must
    // not reach the wasm build.
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => return unavailable(&format!("cannot run cargo: {e}")),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(12).collect();
        let hint = if err.contains("wasm32-wasip1") && err.contains("target may not be installed") {
            "the wasm32 target is not installed: run `rustup target add wasm32-wasip1`"
        } else {
            "the nested wasm build failed"
        };
        for l in tail.iter().rev() {
            println!("cargo:warning={l}");
        }
        return unavailable(hint);
    }
    let wasm_path = target_dir.join("wasm32-wasip1/explorer/xpusim_wasm.wasm");
    let wasm = std::fs::read(&wasm_path)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", wasm_path.display()));
    // gzip level 9: about 3.6× smaller; the page inflates it with the browser's own
    // DecompressionStream.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm).expect("writing to memory");
    let gz = gz.finish().expect("writing to memory");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let dest = out_dir.join("xpusim_wasm.wasm.gz.b64");
    std::fs::write(&dest, b64).unwrap_or_else(|e| panic!("{}: cannot write: {e}", dest.display()));
    println!(
        "cargo:rustc-env=XPUSIM_EXPLORER_WASM_B64={}",
        dest.display()
    );
    println!("cargo:rustc-env=XPUSIM_EXPLORER_WASM_BYTES={}", wasm.len());
    println!("cargo:rustc-cfg=xpusim_explorer_wasm");
}

/// The explorer cannot be built here: a warning (an error under CI, where it must be).
fn unavailable(why: &str) {
    if env::var("CI").is_ok_and(|v| v == "true") {
        panic!("xpusim explorer: {why}");
    }
    println!("cargo:warning=xpusim explorer will be unavailable: {why}");
}
