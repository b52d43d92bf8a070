//! `xpusim._native`: the Python package's door into the Rust core. It is deliberately
//! narrow: Python turns a call such as `xpusim.run("llama-2-7b", "h100-sxm", batch=8)`
//! into the command line `run --model llama-2-7b --hw h100-sxm --batch 8 --format json`
//! and [`cli`] runs it in-process (no subprocess) with the GIL released, returning what
//! the command printed. So every option, default, check and error message is the CLI's,
//! and a Python result is the JSON the terminal prints, byte for byte.
//!
//! The other functions let Python hand the core a hardware spec or a model config built
//! in memory (an edited dict), under a file name its error messages use.

use std::time::Instant;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use xpusim_cli::{output, run_cli, CliError};

create_exception!(
    _native,
    XpusimError,
    PyValueError,
    "A command failed: bad model or hardware, a layout that does not fit, ... The message \
     names the file, field or option, as the command line's does."
);
create_exception!(
    _native,
    UsageError,
    XpusimError,
    "An option the command does not take, or a value of the wrong form."
);

/// What a command printed: (stdout, stderr).
type Printed = (String, String);

fn run(py: Python<'_>, argv: Vec<String>) -> (Result<(), CliError>, output::Captured) {
    // The evaluation is pure Rust: other Python threads run meanwhile.
    py.allow_threads(|| output::capture(|| run_cli(argv)))
}

fn to_py(r: Result<(), CliError>, got: output::Captured) -> PyResult<Printed> {
    match r {
        Ok(()) => Ok((got.stdout, got.stderr)),
        Err(e) if e.is_help() => Ok((e.to_string(), got.stderr)),
        Err(e @ CliError::Usage(_)) => Err(UsageError::new_err(e.to_string())),
        Err(e) => Err(XpusimError::new_err(e.to_string())),
    }
}

/// Runs the `xpusim` command line `argv` (without the program name) in-process and returns
/// what it printed as (stdout, stderr).
#[pyfunction]
fn cli(py: Python<'_>, argv: Vec<String>) -> PyResult<Printed> {
    let (r, got) = run(py, argv);
    to_py(r, got)
}

/// [`cli`], also returning the seconds the command took inside Rust (for the calling-
/// overhead benchmark: Python's time for the call minus this).
#[pyfunction]
fn cli_timed(py: Python<'_>, argv: Vec<String>) -> PyResult<(String, String, f64)> {
    let t0 = Instant::now();
    let (r, got) = run(py, argv);
    let s = t0.elapsed().as_secs_f64();
    let (out, err) = to_py(r, got)?;
    Ok((out, err, s))
}

/// Registers an in-memory file `name` holding `text` (TOML or JSON), read by the loaders
/// as if it were on disk.
#[pyfunction]
fn add_file(name: &str, text: String) {
    xpusim_ir::memfs::insert(name, text);
}

/// The JSON text of `json` written as TOML (a hardware dict as the spec files write it).
#[pyfunction]
fn json_to_toml(what: &str, json: &str) -> PyResult<String> {
    xpusim_cli::bindings::json_to_toml(what, json).map_err(XpusimError::new_err)
}

/// (file name, JSON text) of a device, system or PIM preset or hardware file: the spec as
/// a dict to edit.
#[pyfunction]
fn hw_source(name: &str) -> PyResult<(String, String)> {
    xpusim_cli::bindings::hw_source_json(name).map_err(XpusimError::new_err)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(cli_timed, m)?)?;
    m.add_function(wrap_pyfunction!(add_file, m)?)?;
    m.add_function(wrap_pyfunction!(json_to_toml, m)?)?;
    m.add_function(wrap_pyfunction!(hw_source, m)?)?;
    m.add("XpusimError", m.py().get_type::<XpusimError>())?;
    m.add("UsageError", m.py().get_type::<UsageError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
