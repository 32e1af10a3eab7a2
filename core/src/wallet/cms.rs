//! The pkpass `signature`: a detached CMS SignedData (RFC 5652) over `manifest.json`, by the Pass
//! Type ID certificate, carrying it and Apple's WWDR intermediate, with the signed attributes
//! Wallet checks (content type, signing time, message digest). Built in two steps because the
//! private key lives in WebCrypto: [`Unsigned::new`] gives the bytes to sign (the DER of the
//! signed attributes as a SET), [`Unsigned::finish`] takes the signature.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use super::keys::{KeyKind, PassSigner};
use crate::error::Error;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// A signature waiting for its signature value.
#[derive(Debug, Clone)]
pub struct Unsigned {
    attributes: SignedAttributes,
    /// What the key signs: the DER of the signed attributes, tagged as a SET (RFC 5652 §5.4).
    pub to_sign: Vec<u8>,
}

fn failed(_: der::Error) -> Error {
    Error::Internal {
        cause: "the pass signature could not be encoded".into(),
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, Error> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(failed)?,
    })
}

impl Unsigned {
    /// The signed attributes over `content` (the manifest) at `now` (Unix seconds).
    ///
    /// # Errors
    /// Only if DER encoding fails (it does not for these inputs).
    pub fn new(content: &[u8], now: u64) -> Result<Unsigned, Error> {
        let digest = OctetString::new(Sha256::digest(content).to_vec()).map_err(failed)?;
        let time =
            UtcTime::from_unix_duration(std::time::Duration::from_secs(now)).map_err(failed)?;
        let attributes = SetOfVec::try_from(vec![
            attribute(CONTENT_TYPE, Any::encode_from(&ID_DATA).map_err(failed)?)?,
            attribute(SIGNING_TIME, Any::encode_from(&time).map_err(failed)?)?,
            attribute(MESSAGE_DIGEST, Any::encode_from(&digest).map_err(failed)?)?,
        ])
        .map_err(failed)?;
        let to_sign = attributes.to_der().map_err(failed)?;
        Ok(Unsigned {
            attributes,
            to_sign,
        })
    }

    /// The DER of the ContentInfo, with `signature` as WebCrypto made it (ECDSA's `r || s` is
    /// re-encoded as the DER sequence CMS expects).
    ///
    /// # Errors
    /// A malformed certificate or signature.
    pub fn finish(self, signer: &PassSigner, signature: &[u8]) -> Result<Vec<u8>, Error> {
        let cert = &signer.cert.parsed;
        let (signature_algorithm, signature) = match signer.kind {
            KeyKind::Rsa => (
                AlgorithmIdentifierOwned {
                    oid: RSA_ENCRYPTION,
                    parameters: Some(Any::from(der::asn1::Null)),
                },
                signature.to_vec(),
            ),
            KeyKind::EcP256 => (
                AlgorithmIdentifierOwned {
                    oid: ECDSA_SHA256,
                    parameters: None,
                },
                ecdsa_der(signature)?,
            ),
        };
        let sha256 = AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: None,
        };
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: cert.tbs_certificate.issuer.clone(),
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: sha256.clone(),
            signed_attrs: Some(self.attributes),
            signature_algorithm,
            signature: OctetString::new(signature).map_err(failed)?,
            unsigned_attrs: None,
        };
        let certificates = [&signer.cert, &signer.wwdr]
            .into_iter()
            .map(|c| {
                // Carried as they came (re-encoding a certificate could change its bytes).
                x509_cert::Certificate::from_der(&c.der).map(CertificateChoices::Certificate)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(failed)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(certificates).map_err(failed)?,
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(failed)?),
        };
        ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(failed)?,
        }
        .to_der()
        .map_err(failed)
    }
}

/// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } from WebCrypto's `r || s`.
fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, Error> {
    if raw.len() != 64 {
        return Err(Error::Internal {
            cause: "an ECDSA P-256 signature is 64 bytes".into(),
        });
    }
    let mut body = der::asn1::UintRef::new(&raw[..32])
        .and_then(|r| r.to_der())
        .map_err(failed)?;
    body.extend(
        der::asn1::UintRef::new(&raw[32..])
            .and_then(|s| s.to_der())
            .map_err(failed)?,
    );
    // Two INTEGERs of at most 33 bytes each: the length fits the short form.
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    Ok(out)
}
