//! The command line, `[--pause SECONDS] [--timeout SECONDS] [--deadline SECONDS] HOST
//! PORT|SERVICE PATH`, its `--help`, and what it refuses (exit 2) before anything is looked up.

use std::time::Duration;

use lesson_common::{Args, Exit, above_zero, usage};

pub const USAGE: &str =
    "[--pause SECONDS] [--timeout SECONDS] [--deadline SECONDS] HOST PORT|SERVICE PATH";
pub const HELP: &str = "\
Fetch one page over HTTP/1.0, copy the response to stdout, and say at which step a failure shows up.
Ports the Error Handling Example With Shutdown and File-Like Objects of chapter 2 (Foundations of
Python Network Programming, 1st edition).

Arguments:
  HOST                 the server's name or IP address
  PORT|SERVICE         a port number 0-65535, or a tcp service name such as http
  PATH                 the path to ask for; starts with /, no spaces or control characters

Options:
  --pause SECONDS      how long to sleep between connecting and sending, as the listing's
                       sleep(10) (default: 10)
  --timeout SECONDS    the longest wait for the connect and for each read and write (default: 10)
  --deadline SECONDS   when the whole response must have been read, counted from `Continuing.`
                       (default: 60); checked before each read, so sending the request counts
                       but is bounded only by --timeout, and so does time spent waiting for
                       stdout: a reader slower than the deadline (an unscrolled `| less`) ends
                       the fetch
  -h, --help           print this help

Example:
  cargo run -p http-fetch -- --pause 0 127.0.0.1 8000 /
  (with `python3 -m http.server --bind 127.0.0.1 8000` running)";

/// What the command line asks for.
pub struct Command {
    pub host: String,
    /// PORT|SERVICE as typed: step 1 makes a port of it.
    pub textport: String,
    pub path: String,
    /// The listing's `sleep(10)`.
    pub pause: Duration,
    pub timeout: Duration,
    pub deadline: Duration,
}

/// The process's command line, or why not ([`Exit::Usage`], or [`Exit::Help`] for `--help`).
pub fn from_env() -> Result<Command, Exit> {
    parse(Args::from_env()?)
}

fn parse(mut args: Args) -> Result<Command, Exit> {
    let pause = args.seconds("--pause", Duration::from_secs(10))?;
    let timeout = args.seconds("--timeout", Duration::from_secs(10))?;
    let deadline = args.seconds("--deadline", Duration::from_secs(60))?;
    let timeout = above_zero("--timeout", timeout)?; // to the OS, 0 would mean "wait forever"
    let deadline = above_zero("--deadline", deadline)?;
    let Ok([host, textport, path]) = <[String; 3]>::try_from(args.positional(3)?) else {
        return Err(usage("need HOST, PORT|SERVICE and PATH"));
    };
    // Not in the listing: a CR, LF or space in PATH or HOST would smuggle a second header or
    // request into step 5.
    let unsafe_char = |c: char| c.is_control() || c.is_whitespace();
    if !path.starts_with('/') || path.contains(unsafe_char) {
        return Err(usage(
            "PATH must start with '/'; no spaces or control characters in it",
        ));
    }
    if host.contains(unsafe_char) {
        return Err(usage("HOST must not contain spaces or control characters"));
    }
    Ok(Command {
        host,
        textport,
        path,
        pause,
        timeout,
        deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The usage error `words` of a command line, or "accepted".
    fn refused(words: &[&str]) -> String {
        match Args::parse(words.iter().map(|w| w.to_string())).and_then(parse) {
            Err(Exit::Usage(why)) => why,
            Err(_) => String::from("not a usage error"),
            Ok(_) => String::from("accepted"),
        }
    }

    /// Every option is read before a zero is refused, so a malformed one reports first; a zero
    /// timeout reports before a zero deadline.
    #[test]
    fn a_malformed_option_reports_before_a_zero_one() {
        let both = ["--timeout", "0", "--deadline", "soon", "h", "80", "/"];
        assert_eq!(
            refused(&both),
            "--deadline wants a number of seconds, not 'soon'"
        );
        let zeros = ["--deadline", "0", "--timeout=0", "h", "80", "/"];
        assert_eq!(
            refused(&zeros),
            "--timeout wants a number of seconds above 0, not '0'"
        );
        assert_eq!(refused(&["--pause", "0", "h", "80", "/"]), "accepted");
    }

    /// PATH is checked before HOST; a space or control character in either is refused.
    #[test]
    fn a_space_or_control_character_is_refused() {
        assert_eq!(refused(&["127.0.0.1", "80", "/a/b?c=d"]), "accepted");
        let path = "PATH must start with '/'; no spaces or control characters in it";
        assert_eq!(refused(&["127.0.0.1", "80", "a"]), path);
        assert_eq!(refused(&["127.0.0.1", "80", "/a\r\nX: 1"]), path);
        assert_eq!(refused(&["bad host", "80", "/a b"]), path);
        let host = "HOST must not contain spaces or control characters";
        assert_eq!(refused(&["bad host", "80", "/"]), host);
        assert_eq!(refused(&["h\t", "80", "/"]), host);
    }
}
