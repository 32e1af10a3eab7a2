//! Base URLs of settings and feed endpoints: https, or plain http only for a loopback host
//! (local runs and tests), because these URLs carry bearer tokens, card links and signed events.

/// An https base URL; plain http only for a loopback host.
///
/// # Errors
/// A sentence saying what is wrong.
pub fn check(v: &str) -> Result<(), &'static str> {
    let (https, rest) = match (v.strip_prefix("https://"), v.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err("not an http(s) URL"),
    };
    if rest.is_empty() || rest.contains(['?', '#', ' ', '"', '<', '>', '@', '\\']) {
        return Err("not a plain base URL");
    }
    if !https && !is_loopback(rest.split('/').next().unwrap_or_default()) {
        return Err("plain http is only for a loopback host");
    }
    Ok(())
}

/// Whether `authority` (`host[:port]`) names this machine: `localhost`, `127.x.y.z` or `[::1]`.
pub fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_this_machine_only() {
        for yes in [
            "localhost",
            "LOCALHOST:8787",
            "127.0.0.1",
            "127.9.9.9:1",
            "[::1]:9000",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }
}
