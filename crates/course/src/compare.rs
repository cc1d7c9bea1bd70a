//! `cargo course compare`.

use lesson_common::{Exit, fail};

pub fn main(_args: Vec<String>) -> Result<(), Exit> {
    Err(fail("'compare' is being written"))
}
