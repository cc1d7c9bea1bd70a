//! `cargo course tour`.

use lesson_common::{Exit, fail};

pub fn main(_args: Vec<String>) -> Result<(), Exit> {
    Err(fail("'tour' is being written"))
}
