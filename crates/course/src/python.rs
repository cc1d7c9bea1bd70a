//! The Python interpreter that runs a learner's copy of a listing: which one (`PYTHON`, else
//! `python2`), the program itself behind a launcher, and the wrapped run compare and trace share.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use lesson_common::{Exit, usage};
use test_support::process;

use crate::pair;

/// The Python run of a listing: it shortens `time.sleep` to PAUSE seconds when PAUSE is given, and
/// makes a bind to '' or 0.0.0.0 a bind to 127.0.0.1, then runs the file as `__main__`. A
/// traceback shows the listing's own frames only, as Python shows it for the file run alone: the
/// wrapper's frames (`File "<string>"`) would point the learner at code they never
/// wrote. It runs under Python 2 and 3 alike.
pub const WRAPPER: &str = r#"
import socket, sys, time
listing = sys.argv[1]
sys.argv = sys.argv[1:]
pause = PAUSE
if pause is not None:
    _sleep = time.sleep
    time.sleep = lambda seconds: _sleep(min(seconds, pause))
_bind = socket.socket.bind
def _loopback_bind(self, address, *rest):
    if isinstance(address, tuple) and address[0] in ('', '0.0.0.0'):
        address = ('127.0.0.1',) + tuple(address[1:])
    return _bind(self, address, *rest)
socket.socket.bind = _loopback_bind
try:
    code = compile(open(listing).read(), listing, 'exec')
    exec(code, {'__name__': '__main__', '__file__': listing})
except SystemExit:
    raise
except:
    import traceback
    kind, value, tb = sys.exc_info()
    frames = [f for f in traceback.extract_tb(tb) if f[0] != '<string>']
    if frames:
        sys.stderr.write('Traceback (most recent call last):\n')
    shown = traceback.format_list(frames) + traceback.format_exception_only(kind, value)
    sys.stderr.write(''.join(shown))
    sys.exit(1)
"#;

/// The command that runs `listing` with `args` under `python` through [`WRAPPER`].
pub fn python_command(
    python: &[String],
    listing: &Path,
    args: &[String],
    pause: Option<f64>,
) -> Command {
    let wrapper = WRAPPER.replace(
        "PAUSE",
        &pause.map_or("None".to_string(), |p| format!("{p}")),
    );
    let mut command = Command::new(&python[0]);
    command
        .args(&python[1..])
        .arg("-c")
        .arg(&wrapper)
        .arg(listing)
        .args(args);
    command.env("PYTHONUNBUFFERED", "1");
    command
}

/// `$PYTHON` split on spaces, else `python2`; a usage error, with the pyenv hint, if it cannot run.
pub fn interpreter() -> Result<Vec<String>, Exit> {
    interpreter_and_startup().map(|(words, _)| words)
}

/// Set, by a copy of the course tool that has asked the interpreter already, for the copy it runs
/// of itself (in a PID or network namespace): how long the interpreter took to start, in seconds.
/// The copy then does not ask again (a pyenv shim takes some 70 ms).
const PROBED: &str = "COURSE_PYTHON_STARTUP";

/// The setting that hands a copy of the tool this run's answer from [`interpreter_and_startup`].
pub fn probed(startup: Duration) -> (&'static str, String) {
    (PROBED, startup.as_secs_f64().to_string())
}

/// [`interpreter`], and how long it took to start and run nothing: what a listing's run needs on
/// top of the lesson's (a pyenv shim, a cold cache).
pub fn interpreter_and_startup() -> Result<(Vec<String>, Duration), Exit> {
    let configured = std::env::var("PYTHON").unwrap_or_else(|_| "python2".to_string());
    let words: Vec<String> = configured.split_whitespace().map(String::from).collect();
    let Some(program) = words.first() else {
        return Err(usage("PYTHON is empty"));
    };
    let asked = std::env::var(PROBED)
        .ok()
        .and_then(|s| s.parse::<f64>().ok());
    if let Some(seconds) = asked.filter(|s| s.is_finite() && *s >= 0.0 && *s < 60.0) {
        return Ok((words, Duration::from_secs_f64(seconds)));
    }
    let mut probe = Command::new(program);
    probe.args(&words[1..]).args(["-c", "pass"]);
    // Bounded: an interpreter that hangs is one that does not run.
    let started = std::time::Instant::now();
    let runs = process::run_bounded(&mut probe, b"", Duration::from_secs(20))
        .map(|outcome| outcome.status.is_some_and(|s| s.success()));
    if !runs.unwrap_or(false) {
        return Err(usage(format!(
            "cannot run the interpreter '{configured}'. These are the book's Python 2 listings: install \
             Python 2.7, or with pyenv run `PYENV_VERSION=2.7.18 cargo course compare …` (or set \
             PYTHON='env PYENV_VERSION=2.7.18 python2')"
        )));
    }
    Ok((words, started.elapsed()))
}

/// The settings that chose the interpreter in this run (`PYTHON`, and pyenv's `PYENV_VERSION`), as
/// shell assignments to write before a command the tool suggests, so that the command runs as
/// pasted into the same shell: `PYENV_VERSION=2.7.18 ` (with its trailing space), or nothing.
pub fn settings_for_shell() -> String {
    let mut out = String::new();
    for name in ["PYTHON", "PYENV_VERSION"] {
        if let Ok(value) = std::env::var(name) {
            out.push_str(&format!("{name}={} ", crate::text::shell_word(&value)));
        }
    }
    out
}

/// The interpreter itself rather than a launcher in front of it, so that strace follows Python
/// alone: a pyenv shim is a bash script that runs a dozen helpers before it execs Python, and
/// their calls (glibc's nscd lookups, where HOME is unset) would be drawn as the Python side's.
/// Python names its own binary, which takes the program's place in the command; the rest stays
/// (`env NAME=VALUE…` before it, the interpreter's flags after). Where Python cannot be asked,
/// the command as given.
pub fn interpreter_itself(python: &[String]) -> Vec<String> {
    let Some(at) = program_word(python) else {
        return python.to_vec();
    };
    let mut probe = Command::new(&python[0]);
    probe
        .args(&python[1..])
        .args(["-c", "import sys; sys.stdout.write(sys.executable)"]);
    if let Ok(outcome) = process::run_bounded(&mut probe, b"", Duration::from_secs(20))
        && outcome.status.is_some_and(|s| s.success())
    {
        let path = pair::text(&outcome.stdout);
        if Path::new(&path).is_absolute() && Path::new(&path).is_file() {
            let mut command = python.to_vec();
            command[at] = path;
            return command;
        }
    }
    python.to_vec()
}

/// Which word of a command is the program: the first, or after `env` (`/usr/bin/env` too) the
/// first that is neither an assignment nor one of env's options (`-u NAME` and `-C DIR` take the
/// next word). `None` where env would split a string (`-S`): the command is then run as given.
fn program_word(command: &[String]) -> Option<usize> {
    let first = command.first()?;
    if Path::new(first).file_name() != Some(OsStr::new("env")) {
        return Some(0);
    }
    let mut at = 1;
    while let Some(word) = command.get(at) {
        match word.as_str() {
            "-u" | "--unset" | "-C" | "--chdir" => at += 2,
            "--" => return command.get(at + 1).map(|_| at + 1),
            w if w.starts_with("-S") || w.starts_with("--split-string") => return None,
            w if w.starts_with('-') || w.contains('=') => at += 1,
            _ => return Some(at),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program of `env NAME=VALUE… python2 FLAGS…` is python2; of `python3 -u`, python3.
    #[test]
    fn finds_the_program_in_a_command() {
        let words = |text: &str| -> Vec<String> { text.split(' ').map(String::from).collect() };
        assert_eq!(program_word(&words("python3 -u")), Some(0));
        assert_eq!(
            program_word(&words("env PYENV_VERSION=2.7.18 A=b python2 -E")),
            Some(3)
        );
        assert_eq!(program_word(&words("env A=b")), None);
        assert_eq!(program_word(&words("/usr/bin/env A=b python2")), Some(2));
        assert_eq!(
            program_word(&words("env -u FOO -i A=b -- python2 -E")),
            Some(6)
        );
        assert_eq!(
            program_word(&words("env --unset=FOO -uBAR python2")),
            Some(3)
        );
        assert_eq!(program_word(&words("env -S python2")), None);
        assert_eq!(program_word(&words("/opt/envs/py2/bin/python")), Some(0));
        assert_eq!(program_word(&[]), None);
    }
}
