//! The xpusim command line as a library: the `xpusim` binary and the Python package
//! (`crates/xpusim-py`) both run commands through [`run_cli`], so a Python call and the
//! same command in a terminal parse the same options and print the same bytes.

#[macro_use]
pub mod output;

mod args;
mod attacc;
pub mod bindings;
mod calibrate;
mod compare;
mod cost;
mod explorer;
mod flip;
mod format;
mod inspect;
mod list;
mod npu_map;
mod resolve;
mod run;
mod scalesim;
mod serve;
mod serve_slo;
mod sweep;
mod target_args;
mod train;
mod validate;

use clap::Parser;

/// Why a command did not run.
#[derive(Debug)]
pub enum CliError {
    /// The arguments do not parse (unknown option, bad value, missing argument); the
    /// message is clap's, with usage. `--help` and `--version` land here too, with
    /// [`CliError::is_help`] true.
    Usage(clap::Error),
    /// The command ran and failed (bad model, unknown hardware, a layout that does not
    /// fit, ...): the message names the file, field or option.
    Failed(anyhow::Error),
}

impl CliError {
    /// `--help` or `--version` was asked for: the message is the text to show.
    pub fn is_help(&self) -> bool {
        matches!(self, CliError::Usage(e) if matches!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
        ))
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(e) => write!(f, "{}", e.render()),
            CliError::Failed(e) => write!(f, "{e:#}"),
        }
    }
}

/// Parses `argv` (without the program name) as the `xpusim` command line and runs it,
/// printing through [`output`].
pub fn run_cli<I, S>(argv: I) -> Result<(), CliError>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv =
        std::iter::once(std::ffi::OsString::from("xpusim")).chain(argv.into_iter().map(Into::into));
    let cli = args::Cli::try_parse_from(argv).map_err(CliError::Usage)?;
    format::set_wide(cli.wide);
    dispatch(cli.command.unwrap_or_default()).map_err(CliError::Failed)
}

/// Parses `argv` (without the program name) as [`run_cli`] would, without running it: the
/// docs test checks every command the README and docs/ show against the real parser.
pub fn parse_cli<I, S>(argv: I) -> Result<(), CliError>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv =
        std::iter::once(std::ffi::OsString::from("xpusim")).chain(argv.into_iter().map(Into::into));
    args::Cli::try_parse_from(argv).map_err(CliError::Usage)?;
    Ok(())
}

fn dispatch(command: args::Command) -> anyhow::Result<()> {
    use args::Command;
    match command {
        Command::Compare(a) => compare::main(&a),
        Command::Run(a) if scalesim::applies(&a) => scalesim::main(&a),
        Command::Run(a) if a.mapper.is_some() || a.arch.is_some() => npu_map::main(&a),
        Command::Run(a) => run::main(&a),
        Command::List(a) => list::main(&a),
        Command::Validate(a) => validate::main(&a),
        Command::Calibrate(a) => calibrate::main(&a),
        Command::Serve(a) => serve::main(&a),
        Command::Sweep(a) => sweep::main(&a),
        Command::Cost(a) => cost::main(&a),
        Command::Attacc(a) => attacc::main(&a),
        Command::Flip(a) => flip::main(&a),
        Command::Train(a) => train::main(&a),
        Command::Inspect(a) => inspect::main(&a),
        Command::Explorer(a) => explorer::main(&a),
    }
}
