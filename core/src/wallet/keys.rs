//! The wallet's keys and certificates, read from their PEM settings: the Pass Type ID
//! certificate and key with Apple's WWDR intermediate, and the Google service account. Parsing
//! checks what can be checked without the runtime (the key itself is imported by WebCrypto at
//! the edge, once per isolate).

use der::Decode;
use serde::Deserialize;
use x509_cert::Certificate;

/// How a private key signs, from its certificate's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Apple's pass certificates, Google's service accounts).
    Rsa,
    /// ECDSA P-256 with SHA-256.
    EcP256,
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";

/// The DER of the first PEM block labelled `label` in `pem` (settings pasted with literal `\n`
/// escapes read the same).
pub fn pem_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    let pem = pem.replace("\\n", "\n");
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// A certificate: its DER (as the signature carries it, byte for byte) and what the signature
/// needs from it.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    pub parsed: Certificate,
}

impl Cert {
    /// # Errors
    /// What is wrong, for the configuration report.
    pub fn from_pem(pem: &str) -> Result<Cert, &'static str> {
        let der = pem_der(pem, "CERTIFICATE").ok_or("no PEM CERTIFICATE block")?;
        let parsed = Certificate::from_der(&der).map_err(|_| "not an X.509 certificate")?;
        Ok(Cert { der, parsed })
    }

    /// The signing algorithm of its public key.
    ///
    /// # Errors
    /// A key that is neither RSA nor EC P-256.
    pub fn key_kind(&self) -> Result<KeyKind, &'static str> {
        let spki = &self.parsed.tbs_certificate.subject_public_key_info;
        match spki.algorithm.oid.to_string().as_str() {
            RSA_ENCRYPTION => Ok(KeyKind::Rsa),
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok());
                match curve.map(|c| c.to_string()) {
                    Some(c) if c == P256 => Ok(KeyKind::EcP256),
                    _ => Err("an EC key on a curve other than P-256"),
                }
            }
            _ => Err("a key that is neither RSA nor EC P-256"),
        }
    }
}

/// A PKCS#8 private key's DER.
///
/// # Errors
/// No `PRIVATE KEY` block (an `RSA PRIVATE KEY`, PKCS#1, must be converted first:
/// `openssl pkcs8 -topk8 -nocrypt`).
pub fn pkcs8_der(pem: &str) -> Result<Vec<u8>, &'static str> {
    let der = pem_der(pem, "PRIVATE KEY")
        .ok_or("no PEM PRIVATE KEY block (PKCS#8; convert with openssl pkcs8 -topk8 -nocrypt)")?;
    // PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey }: a SEQUENCE at least.
    der::asn1::AnyRef::from_der(&der)
        .ok()
        .filter(|any| der::Tagged::tag(any) == der::Tag::Sequence)
        .ok_or("not a PKCS#8 key")?;
    Ok(der)
}

/// Apple's pass signing material, checked together (`Debug` leaves the key out).
#[derive(Clone)]
pub struct PassSigner {
    pub cert: Cert,
    pub wwdr: Cert,
    pub key_pkcs8: Vec<u8>,
    pub kind: KeyKind,
}

impl std::fmt::Debug for PassSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassSigner")
            .field("kind", &self.kind)
            .field("key_pkcs8", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl PassSigner {
    /// # Errors
    /// Which of the three is unusable.
    pub fn new(cert: &str, key: &str, wwdr: &str) -> Result<PassSigner, &'static str> {
        let cert = Cert::from_pem(cert)?;
        let kind = cert.key_kind()?;
        Ok(PassSigner {
            kind,
            key_pkcs8: pkcs8_der(key)?,
            wwdr: Cert::from_pem(wwdr)?,
            cert,
        })
    }
}

/// The fields of a Google service account's JSON key that signing needs (`Debug` leaves the
/// key out).
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

impl ServiceAccount {
    /// # Errors
    /// Not JSON with `client_email` and a PKCS#8 `private_key`.
    pub fn parse(json: &str) -> Result<ServiceAccount, &'static str> {
        let account: ServiceAccount = serde_json::from_str(json)
            .map_err(|_| "not a service account JSON key (client_email, private_key)")?;
        if !account.client_email.contains('@') {
            return Err("client_email is not an e-mail address");
        }
        pkcs8_der(&account.private_key)?;
        Ok(account)
    }

    /// The private key's PKCS#8 DER.
    pub fn key_der(&self) -> Vec<u8> {
        pkcs8_der(&self.private_key).unwrap_or_default()
    }
}
