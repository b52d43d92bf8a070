//! The browser explorer's door into the Rust core, compiled to `wasm32-wasip1`
//! (WASI: the page supplies a small system interface; see `explorer/app.js`).
//! Like the Python bindings it is deliberately narrow: the page asks for a command line
//! (`["run", "--model", "llama-2-7b", "--hw", "h100-sxm", "--format", "json"]`) and gets
//! what the command printed, so every number on the page is the one the terminal prints
//! for the same inputs, byte for byte. An edited chip reaches the core as an in-memory
//! file (`memfs`), read by the same loader and checked with the same errors as a file.
//!
//! The ABI is one JSON request and one JSON reply through linear memory:
//! `xpusim_alloc(len)` → the page writes the request's UTF-8 there → `xpusim_call(ptr,
//! len)` (which takes the buffer back) returns the reply's length → the reply's bytes are
//! at `xpusim_reply_ptr()`, valid until the next call.

use serde::Deserialize;
use serde_json::{json, Value};
use std::cell::RefCell;
use xpusim_cli::{bindings, output, run_cli, CliError};

/// What the page can ask.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// A command line without the program name.
    Cli(Vec<String>),
    /// Registers an in-memory file (an edited device TOML) under `name`.
    AddFile { name: String, text: String },
    /// A file a command wrote (`run --html NAME`), from memory.
    ReadFile(String),
    /// A hardware preset or file as a JSON object to edit.
    HwSource(String),
    /// An edited JSON spec as TOML (for the loaders, and for the user to download).
    JsonToToml(String),
}

/// Answers one request: `{"ok": true, ...}` with its fields, or `{"ok": false, "error":
/// message, "usage": bool}`.
pub fn answer(request: &str) -> Value {
    let req: Request = match serde_json::from_str(request) {
        Ok(r) => r,
        Err(e) => return failed(format!("bad request: {e}"), false),
    };
    match req {
        Request::Cli(argv) => {
            let (r, got) = output::capture(|| run_cli(argv));
            match r {
                Ok(()) => json!({"ok": true, "stdout": got.stdout, "stderr": got.stderr}),
                Err(e) if e.is_help() => {
                    json!({"ok": true, "stdout": e.to_string(), "stderr": got.stderr})
                }
                Err(e) => {
                    let usage = matches!(e, CliError::Usage(_));
                    let mut v = failed(e.to_string(), usage);
                    v["stderr"] = got.stderr.into();
                    v
                }
            }
        }
        Request::AddFile { name, text } => {
            xpusim_ir::memfs::insert(&name, text);
            json!({"ok": true})
        }
        Request::ReadFile(name) => match xpusim_ir::memfs::get(&name) {
            Some(text) => json!({"ok": true, "text": text}),
            None => failed(format!("{name}: no such file in memory"), false),
        },
        Request::HwSource(name) => match bindings::hw_source_json(&name) {
            Ok((file, spec)) => json!({"ok": true, "file": file, "json": spec}),
            Err(e) => failed(e, false),
        },
        Request::JsonToToml(spec) => match bindings::json_to_toml("edited spec", &spec) {
            Ok(text) => json!({"ok": true, "text": text}),
            Err(e) => failed(e, false),
        },
    }
}

fn failed(error: String, usage: bool) -> Value {
    json!({"ok": false, "error": error, "usage": usage})
}

thread_local! {
    static REPLY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` bytes for the page to write a request into; [`xpusim_call`] frees it.
#[no_mangle]
pub extern "C" fn xpusim_alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len.max(1));
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// Answers the request in the `len` bytes at `ptr` (a buffer from [`xpusim_alloc`] of that
/// length, which this takes back) and returns the reply's length in bytes.
///
/// # Safety
/// `ptr` must come from `xpusim_alloc(len)` with the same `len`, hold `len` initialised
/// bytes, and not be used again.
#[no_mangle]
pub unsafe extern "C" fn xpusim_call(ptr: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's contract above: an allocation of capacity `len.max(1)` made by
    // `xpusim_alloc`, with `len` bytes written.
    let bytes = unsafe { Vec::from_raw_parts(ptr, len, len.max(1)) };
    let reply = match std::str::from_utf8(&bytes) {
        Ok(text) => answer(text),
        Err(e) => failed(format!("bad request: not UTF-8: {e}"), false),
    };
    let text = reply.to_string().into_bytes();
    let n = text.len();
    REPLY.with(|r| *r.borrow_mut() = text);
    n
}

/// Where the last reply's bytes are (its length came from [`xpusim_call`]).
#[no_mangle]
pub extern "C" fn xpusim_reply_ptr() -> *const u8 {
    REPLY.with(|r| r.borrow().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_prints_what_the_cli_prints() {
        let v = answer(
            r#"{"cli": ["run", "--model", "resnet-50", "--hw", "a100-80gb", "--format", "json"]}"#,
        );
        assert_eq!(v["ok"], true, "{v}");
        let (r, cli) = output::capture(|| {
            run_cli([
                "run",
                "--model",
                "resnet-50",
                "--hw",
                "a100-80gb",
                "--format",
                "json",
            ])
        });
        assert!(r.is_ok());
        assert_eq!(v["stdout"], cli.stdout.as_str());
    }

    #[test]
    fn errors_name_the_option_and_say_whether_usage() {
        let v = answer(r#"{"cli": ["run", "--model", "resnet-50", "--hw", "h100-sxmm"]}"#);
        assert_eq!(v["ok"], false);
        assert_eq!(v["usage"], false);
        assert!(
            v["error"].as_str().is_some_and(|e| e.contains("h100-sxmm")),
            "{v}"
        );
        let v = answer(r#"{"cli": ["run", "--no-such-flag"]}"#);
        assert_eq!(v["usage"], true, "{v}");
        let v = answer(r#"{"launch": []}"#);
        assert!(
            v["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("bad request")),
            "{v}"
        );
    }

    #[test]
    fn an_edited_chip_is_read_from_memory() {
        let src = answer(r#"{"hw_source": "h100-sxm"}"#);
        let spec = src["json"].as_str().expect("json");
        let toml = answer(&json!({"json_to_toml": spec}).to_string());
        let text = toml["text"].as_str().expect("toml");
        let add = answer(
            &json!({"add_file": {"name": "explorer:test/chip.toml", "text": text}}).to_string(),
        );
        assert_eq!(add["ok"], true);
        let on_file = answer(
            r#"{"cli": ["run", "--model", "gpt2", "--hw", "explorer:test/chip.toml", "--format", "json"]}"#,
        );
        let preset = answer(
            r#"{"cli": ["run", "--model", "gpt2", "--hw", "h100-sxm", "--format", "json"]}"#,
        );
        assert_eq!(on_file["ok"], true, "{on_file}");
        let lat = |v: &Value| -> f64 {
            let out: Value =
                serde_json::from_str(v["stdout"].as_str().unwrap_or("{}")).unwrap_or_default();
            out["latency_s"].as_f64().unwrap_or(f64::NAN)
        };
        assert_eq!(lat(&on_file), lat(&preset));
        let read = answer(r#"{"read_file": "explorer:test/chip.toml"}"#);
        assert_eq!(read["text"].as_str(), Some(text));
    }
}
