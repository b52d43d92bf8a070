//! `xpusim`: how fast, how efficient and how costly is an AI chip on a model.

mod args;
mod attacc;
mod calibrate;
mod compare;
mod cost;
mod flip;
mod format;
mod list;
mod npu_map;
mod resolve;
mod run;
mod scalesim;
mod serve;
mod sweep;
mod target_args;
mod train;
mod validate;

use clap::Parser;

fn main() {
    // A closed pipe (`xpusim compare | head`) ends the process quietly with SIGPIPE's usual
    // status instead of a panic on the next print.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = args::Cli::parse();
    let result = match cli.command.unwrap_or_default() {
        args::Command::Compare(a) => compare::main(&a),
        args::Command::Run(a) if scalesim::applies(&a) => scalesim::main(&a),
        args::Command::Run(a) if a.mapper.is_some() || a.arch.is_some() => npu_map::main(&a),
        args::Command::Run(a) => run::main(&a),
        args::Command::List(a) => list::main(&a),
        args::Command::Validate(a) => validate::main(&a),
        args::Command::Calibrate(a) => calibrate::main(&a),
        args::Command::Serve(a) => serve::main(&a),
        args::Command::Sweep(a) => sweep::main(&a),
        args::Command::Cost(a) => cost::main(&a),
        args::Command::Attacc(a) => attacc::main(&a),
        args::Command::Flip(a) => flip::main(&a),
        args::Command::Train(a) => train::main(&a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
