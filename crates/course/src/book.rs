//! `cargo course book`.

use lesson_common::{Exit, fail};

pub fn main(_args: Vec<String>) -> Result<(), Exit> {
    Err(fail("'book' is being written"))
}
