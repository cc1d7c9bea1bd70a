//! `cargo course transcripts`.

use lesson_common::{Exit, fail};

pub fn main(_args: Vec<String>) -> Result<(), Exit> {
    Err(fail("'transcripts' is being written"))
}
