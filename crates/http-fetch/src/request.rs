//! Not in the listing: the `Host` header of step 5.

/// The `Host` header's value (the listing sends none; servers that host several sites on one
/// address pick the site by it): HOST, in brackets if it is an IPv6 address, with `:PORT` unless
/// the port is 80.
pub fn authority(host: &str, port: u16) -> String {
    let name = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == 80 {
        name
    } else {
        format!("{name}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brackets around an IPv6 literal, and the port unless it is 80.
    #[test]
    fn the_host_header_names_the_port_unless_it_is_80() {
        assert_eq!(authority("example.com", 80), "example.com");
        assert_eq!(authority("127.0.0.1", 8000), "127.0.0.1:8000");
        assert_eq!(authority("::1", 8000), "[::1]:8000");
        assert_eq!(authority("::1", 80), "[::1]");
    }
}
