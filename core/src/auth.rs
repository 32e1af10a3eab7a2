//! Bearer-token checks for the admin and cashier APIs.

use crate::error::Error;
use crate::settings::secrets::Secret;

/// Checks an `Authorization` header against the expected bearer token, in constant time.
///
/// # Errors
/// [`Error::Unauthorized`] (`unauthorized`) when the header is missing, not a bearer token, or
/// holds another token.
pub fn check_bearer(authorization: Option<&str>, expected: &Secret) -> Result<(), Error> {
    let token = authorization
        .and_then(bearer_token)
        .ok_or(Error::Unauthorized {
            code: "unauthorized",
        })?;
    if expected.matches(token.as_bytes()) {
        Ok(())
    } else {
        Err(Error::Unauthorized {
            code: "unauthorized",
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_token_passes() {
        let secret = Secret::new("s3cret-token");
        assert!(check_bearer(Some("Bearer s3cret-token"), &secret).is_ok());
        assert!(check_bearer(Some("bearer  s3cret-token "), &secret).is_ok());
    }

    #[test]
    fn missing_malformed_or_wrong_tokens_are_401() {
        let secret = Secret::new("s3cret-token");
        for header in [
            None,
            Some(""),
            Some("s3cret-token"),
            Some("Basic s3cret-token"),
            Some("Bearer"),
            Some("Bearer s3cret-tokeN"),
            Some("Bearer s3cret-token2"),
        ] {
            let err = check_bearer(header, &secret).unwrap_err();
            assert_eq!(
                (err.status(), err.code()),
                (401, "unauthorized"),
                "{header:?}"
            );
        }
    }
}
