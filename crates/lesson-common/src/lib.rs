//! What every lesson shares, and nothing more. Anything a listing teaches stays in the lesson.
//!
//! # Layout
//!
//! - [`cli`]: the command line and the way a lesson ends — [`Args`] (`--help`, `--flag VALUE`,
//!   positional arguments), [`above_zero`] (a timeout of zero seconds refused), [`Exit`] and
//!   [`report`] (exit 0, 1 or 2 with one line on stderr).
//! - [`net`]: ports and names — [`parse_port`] (a number or a service name, per [`Transport`]),
//!   [`resolve`] and [`GaiError`] (the resolver's failures in Python's `[Errno N] text` words), and
//!   [`py_addr`] (Python 2's `('127.0.0.1', 51423)` address notation), and [`server_address`] (a
//!   server lesson's `[--bind ADDR] [PORT|SERVICE]`).
//! - [`log`]: [`ServerLog`], a server's log on stdout and its error lines on stderr, with the one
//!   policy for a log nobody reads or that cannot be written (the server serves on) and for an
//!   error that repeats (shown once per [`REPEAT_INTERVAL`], with a count).
//!
//! # The exit-code contract
//!
//! 0: done. 1: a failure at run time (refused, unreachable, an unknown service name, a name that
//! does not resolve): one `error: …` line on stderr. 2: a bad command line (a missing argument, an
//! unknown option, a port that is not a number from 0 to 65535): `error: …` and the usage line.

pub mod cli;
pub mod log;
pub mod net;

pub use cli::{Args, Exit, above_zero, fail, fail_with, one_line, report, report_as, usage};
pub use log::{REPEAT_INTERVAL, ServerLog};
pub use net::{
    GaiError, LISTING_PORT, PortError, PyAddr, Transport, parse_port, py_addr, resolve,
    server_address,
};

#[cfg(test)]
mod tests;
