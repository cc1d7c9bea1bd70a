//! One check per exercise, each in a file of its own with its table row (`pub const EXERCISE`):
//! add a file here and a line in `../table.rs`.

pub mod addr_family;
pub mod echo_no_storm;
pub mod fetch_one_byte;
pub mod fetch_short_body;
pub mod listener_idle;
pub mod listener_reset;
pub mod try_each_address;
pub mod udp_backoff;
pub mod udp_once;
pub mod validate_by_value;
