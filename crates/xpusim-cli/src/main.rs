//! `xpusim`: how fast, how efficient and how costly is an AI chip on a model.

use xpusim_cli::{run_cli, CliError};

fn main() {
    // A closed pipe (`xpusim compare | head`) ends the process quietly with SIGPIPE's usual
    // status instead of a panic on the next print.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match run_cli(std::env::args_os().skip(1)) {
        Ok(()) => {}
        // clap prints help to stdout and usage errors to stderr, with its own status.
        Err(CliError::Usage(e)) => e.exit(),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
