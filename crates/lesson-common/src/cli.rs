//! The command line and the way a lesson ends: [`Args`], [`Exit`], [`report`].

use std::error::Error;
use std::fmt::{self, Display};
use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Why a lesson's `run()` stopped early; [`report`] turns it into output and an exit code.
#[derive(Debug)]
pub enum Exit {
    /// `--help` or `-h`: the usage and the help text on stdout, exit 0.
    Help,
    /// A bad command line: `error: …` and the usage line on stderr, exit 2.
    Usage(String),
    /// A failure at run time: one line on stderr (the error and each of its causes), exit 1.
    Failed(Box<dyn Error>),
    /// Exit 1 with nothing more to say: the lesson already printed the listing's own words for it.
    Quiet,
}

impl Exit {
    /// The one line this exit prints, without its `error: ` prefix, for a report that quotes it
    /// (the course tool's tour); empty for `--help` and a quiet exit.
    pub fn words(&self) -> String {
        match self {
            Exit::Failed(e) => one_line(e.as_ref()),
            Exit::Usage(why) => why.clone(),
            Exit::Help | Exit::Quiet => String::new(),
        }
    }
}

/// `?` on an I/O error makes it a run-time failure.
impl From<io::Error> for Exit {
    fn from(error: io::Error) -> Self {
        Exit::Failed(Box::new(error))
    }
}

/// A run-time failure in the lesson's own words, with no cause behind it:
/// `fail("the socket has no IP address")`.
pub fn fail(message: impl Display) -> Exit {
    Exit::Failed(message.to_string().into())
}

/// A run-time failure that keeps its cause: `fail_with("Connection error", e)` reports
/// `error: Connection error: Connection refused (os error 111)`.
pub fn fail_with(context: impl Display, cause: impl Error + 'static) -> Exit {
    Exit::Failed(Box::new(Context {
        context: context.to_string(),
        cause: Box::new(cause),
    }))
}

/// A usage error: the words say what was wrong with the command line.
pub fn usage(message: impl Display) -> Exit {
    Exit::Usage(message.to_string())
}

/// An option's number of seconds, unless it is zero, which is a usage error: to the OS a zero socket
/// timeout means "wait forever", the opposite of what was asked. Check it once every option is read
/// (`above_zero("--timeout", timeout)?`), so a malformed option still reports first.
pub fn above_zero(name: &str, seconds: Duration) -> Result<Duration, Exit> {
    if seconds.is_zero() {
        return Err(usage(format!(
            "{name} wants a number of seconds above 0, not '0'"
        )));
    }
    Ok(seconds)
}

/// The error behind [`fail_with`]: its own words, then its cause as [`Error::source`].
#[derive(Debug)]
struct Context {
    context: String,
    cause: Box<dyn Error>,
}

impl Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.cause.as_ref())
    }
}

/// Print the outcome of `run()` the way every lesson does and pick the exit code.
/// `usage` is the argument synopsis after the program name (`"[HOST [PORT|SERVICE]]"`); `help`
/// is what `--help` prints below it: what the program does, its arguments with their defaults, an
/// example.
pub fn report(usage: &str, help: &str, outcome: Result<(), Exit>) -> ExitCode {
    let program = std::env::args_os().next().unwrap_or_default();
    let program = program.to_string_lossy();
    let program = program.rsplit(['/', '\\']).next().unwrap_or_default();
    report_as(program, usage, help, outcome)
}

/// [`report`] under the name the user types, where that is not the binary's file name (the
/// course's own tool is run as `cargo course`).
pub fn report_as(program: &str, usage: &str, help: &str, outcome: Result<(), Exit>) -> ExitCode {
    let end = ending(program, usage, help, outcome);
    // stderr is the last resort: if even that write fails there is nobody left to tell.
    let mut stderr = io::stderr().lock();
    if !end.stdout.is_empty() {
        let mut out = io::stdout().lock();
        match out
            .write_all(end.stdout.as_bytes())
            .and_then(|()| out.flush())
        {
            // A reader that left on purpose (`--help | head -1`) is not an error…
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {}
            // …but help that could not be written (`> /dev/full`) is a failure like any other.
            Err(e) => {
                let _ = writeln!(stderr, "error: cannot write the help: {e}");
                return ExitCode::FAILURE;
            }
            Ok(()) => {}
        }
    }
    let _ = stderr.write_all(end.stderr.as_bytes());
    ExitCode::from(end.code)
}

/// How a run ends: its exit code and what it still has to print.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ending {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// The decision behind [`report`], without the writing (so it can be tested quietly).
pub(crate) fn ending(program: &str, usage: &str, help: &str, outcome: Result<(), Exit>) -> Ending {
    let (code, stdout, stderr) = match outcome {
        Ok(()) => (0, String::new(), String::new()),
        Err(Exit::Help) => (
            0,
            format!("usage: {program} {usage}\n\n{help}\n"),
            String::new(),
        ),
        Err(Exit::Usage(why)) => (
            2,
            String::new(),
            format!("error: {why}\nusage: {program} {usage}\n"),
        ),
        Err(Exit::Failed(error)) => (
            1,
            String::new(),
            format!("error: {}\n", one_line(error.as_ref())),
        ),
        Err(Exit::Quiet) => (1, String::new(), String::new()),
    };
    Ending {
        code,
        stdout,
        stderr,
    }
}

/// An error's Display and each of its causes, joined with `: `, never Debug, always one line.
pub fn one_line(error: &dyn Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        line = format!("{line}: {next}");
        cause = next.source();
    }
    line.replace(['\r', '\n'], " ")
}

/// The command line after the program name. `--help`/`-h` anywhere means [`Exit::Help`].
pub struct Args(Vec<String>);

impl Args {
    /// The process's arguments; one that is not UTF-8 is a usage error (std's `args()` would
    /// panic).
    pub fn from_env() -> Result<Args, Exit> {
        let mut args = Vec::new();
        for arg in std::env::args_os().skip(1) {
            match arg.into_string() {
                Ok(arg) => args.push(arg),
                Err(bad) => return Err(usage(format!("{bad:?} is not valid UTF-8"))),
            }
        }
        Args::parse(args)
    }

    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, Exit> {
        let args: Vec<String> = args.into_iter().collect();
        if args.iter().any(|a| a == "--help" || a == "-h") {
            return Err(Exit::Help);
        }
        Ok(Args(args))
    }

    /// Take `--name VALUE` or `--name=VALUE` out of the arguments, if present.
    pub fn option(&mut self, name: &str) -> Result<Option<String>, Exit> {
        let with_value = format!("{name}=");
        let found = self
            .0
            .iter()
            .position(|a| a == name || a.starts_with(&with_value));
        let Some(at) = found else {
            return Ok(None);
        };
        let flag = self.0.remove(at);
        if let Some((_, value)) = flag.split_once('=') {
            return Ok(Some(value.to_string()));
        }
        if at < self.0.len() {
            Ok(Some(self.0.remove(at)))
        } else {
            Err(usage(format!("{name} needs a value")))
        }
    }

    /// Take the bare flag `--name` out of the arguments: whether it was there.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        self.0.len() != before
    }

    /// Take `--name SECONDS` (a decimal such as `0.5`), or `default` when absent. Negative, NaN or
    /// absurdly large values are usage errors; whether zero makes sense is the lesson's call.
    pub fn seconds(&mut self, name: &str, default: Duration) -> Result<Duration, Exit> {
        let Some(text) = self.option(name)? else {
            return Ok(default);
        };
        let seconds: Option<f64> = text.parse().ok();
        match seconds.and_then(|s| Duration::try_from_secs_f64(s).ok()) {
            Some(duration) => Ok(duration),
            None => Err(usage(format!(
                "{name} wants a number of seconds, not '{text}'"
            ))),
        }
    }

    /// What is left once the options are taken: at most `max` positional arguments, no unknown
    /// `--flag`.
    pub fn positional(self, max: usize) -> Result<Vec<String>, Exit> {
        if let Some(flag) = self.0.iter().find(|a| a.starts_with("--")) {
            return Err(usage(format!("unknown option '{flag}'")));
        }
        if self.0.len() > max {
            return Err(usage(format!("too many arguments (at most {max})")));
        }
        Ok(self.0)
    }
}
