//! `cargo course trace`.

use lesson_common::{Exit, fail};

pub fn main(_args: Vec<String>) -> Result<(), Exit> {
    Err(fail("'trace' is being written"))
}
