//! `xpusim explorer --out DIR`: writes a static site, `DIR/index.html`, that runs this very
//! command line in the browser. The engine is `crates/xpusim-wasm` compiled to WebAssembly
//! by this crate's build script, gzipped and inlined as base64 with the page's script and
//! style (`explorer/`), so the page opens from a `file://` URL with no server, and every
//! number it shows is what `xpusim` prints for the command line shown beneath it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ExplorerArgs {
    /// Directory to write the site into (created if absent; its index.html is replaced).
    #[arg(long)]
    pub out: PathBuf,
}

const PAGE: &str = include_str!("../explorer/index.html");
const STYLE: &str = include_str!("../explorer/style.css");
const GUNZIP: &str = include_str!("../explorer/gunzip.js");
const SCRIPT: &str = include_str!("../explorer/app.js");

/// The engine, gzipped and base64-encoded by build.rs.
#[cfg(xpusim_explorer_wasm)]
fn wasm_b64() -> Result<&'static str> {
    Ok(include_str!(env!("XPUSIM_EXPLORER_WASM_B64")))
}

#[cfg(not(xpusim_explorer_wasm))]
fn wasm_b64() -> Result<&'static str> {
    anyhow::bail!(
        "this xpusim was built without the explorer's WebAssembly engine: run `rustup target add \
         wasm32-wasip1` and rebuild (and unset XPUSIM_NO_EXPLORER if it is set)"
    )
}

/// The page: the template with its style, script and engine put in place.
pub fn page() -> Result<String> {
    let wasm = wasm_b64()?;
    // Splice by position so that no text of the inserted parts is ever searched again.
    let parts = STYLE.len() + wasm.len() + GUNZIP.len() + SCRIPT.len();
    let mut html = String::with_capacity(PAGE.len() + parts);
    let mut rest = PAGE;
    for (mark, part) in [
        ("/*STYLE*/", STYLE),
        ("/*WASM*/", wasm),
        ("/*GUNZIP*/", GUNZIP),
        ("/*SCRIPT*/", SCRIPT),
    ] {
        let at = rest
            .find(mark)
            .with_context(|| format!("explorer/index.html lacks its {mark} mark"))?;
        html.push_str(&rest[..at]);
        html.push_str(part);
        rest = &rest[at + mark.len()..];
    }
    html.push_str(rest);
    Ok(html)
}

pub fn main(a: &ExplorerArgs) -> Result<()> {
    let html = page()?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("{}: cannot create", a.out.display()))?;
    let index = a.out.join("index.html");
    std::fs::write(&index, &html).with_context(|| format!("{}: cannot write", index.display()))?;
    let abs = std::fs::canonicalize(&index).unwrap_or(index);
    outln!(
        "wrote {} ({:.1} MB, engine included); open file://{} in a browser, no server needed",
        abs.display(),
        html.len() as f64 / 1e6,
        abs.display()
    );
    Ok(())
}
