//! Where a command's output goes: stdout for the binary, or a buffer for an in-process
//! caller (the Python package), so both read exactly the same bytes.
//!
//! Commands print with [`outln!`]/[`out!`] (results) and [`warnln!`] (diagnostics). The
//! sinks are per thread: a command runs on the thread that called it (rayon workers compute
//! but never print), so concurrent in-process callers on different threads do not mix their
//! output.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;

#[derive(Default)]
struct Capture {
    out: Vec<u8>,
    err: Vec<u8>,
}

thread_local! {
    static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

/// What a captured command printed: its results and its diagnostics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `f` with this thread's output captured, and returns what it printed beside its
/// result. Nested captures are not supported: the inner one takes over until it ends.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Captured) {
    let previous = CAPTURE.with(|c| c.borrow_mut().replace(Capture::default()));
    let value = f();
    let got = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    let got = got.unwrap_or_default();
    (
        value,
        Captured {
            stdout: String::from_utf8_lossy(&got.out).into_owned(),
            stderr: String::from_utf8_lossy(&got.err).into_owned(),
        },
    )
}

/// Writes a result line part. On the terminal a closed pipe (`| head`) ends the process
/// quietly with the status a shell expects of a filter killed by SIGPIPE (128 + 13); any
/// other write error is reported once and ends it with status 1, as `println!` would panic.
pub fn write_out(args: fmt::Arguments) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(cap) => {
            // Writing into a Vec cannot fail.
            let _ = cap.out.write_fmt(args);
            true
        }
        None => false,
    });
    if captured {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(SIGPIPE_EXIT);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// A diagnostic line part (warnings, progress summaries), to stderr or the capture.
pub fn write_err(args: fmt::Arguments) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(cap) => {
            let _ = cap.err.write_fmt(args);
            true
        }
        None => false,
    });
    if !captured {
        // Diagnostics are best effort: a closed stderr must not hide the result.
        let _ = std::io::stderr().lock().write_fmt(args);
    }
}

/// Exit status of a process killed by SIGPIPE, as shells report it.
const SIGPIPE_EXIT: i32 = 128 + 13;

/// `println!` into the command's output.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write_out(format_args!("\n")) };
    ($($t:tt)*) => { $crate::output::write_out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` into the command's output.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::output::write_out(format_args!($($t)*)) };
}

/// `eprintln!` into the command's diagnostics.
#[macro_export]
macro_rules! warnln {
    ($($t:tt)*) => { $crate::output::write_err(format_args!("{}\n", format_args!($($t)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_collects_both_streams_and_restores_the_terminal() {
        let (v, got) = capture(|| {
            outln!("a {}", 1);
            out!("b");
            warnln!("w");
            7
        });
        assert_eq!(v, 7);
        assert_eq!(got.stdout, "a 1\nb");
        assert_eq!(got.stderr, "w\n");
        CAPTURE.with(|c| assert!(c.borrow().is_none()));
    }

    #[test]
    fn captures_on_other_threads_do_not_mix() {
        let h = std::thread::spawn(|| capture(|| outln!("other")).1.stdout);
        let mine = capture(|| outln!("mine")).1.stdout;
        assert_eq!(mine, "mine\n");
        assert_eq!(h.join().ok(), Some("other\n".to_string()));
    }
}
