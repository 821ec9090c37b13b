//! The signing envelope: DSSE (Dead Simple Signing Envelope) v1 with an Ed25519 key, as in-toto
//! attestations travel. The cryptography, PEM/PKCS#8/SPKI key encodings and base64 are the crates'
//! (`ed25519-dalek` with its `pkcs8` and `pem` features, `base64`); the only text written here is
//! DSSE's pre-authentication encoding, which the spec defines as a line of lengths.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Decodes a DSSE base64 field: envelope.md lets a producer use the standard or the URL-safe
/// alphabet, with or without padding, so every one of them is accepted.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::alphabet::{STANDARD as STANDARD_ALPHABET, URL_SAFE};
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&STANDARD_ALPHABET, config);
    let url_safe = GeneralPurpose::new(&URL_SAFE, config);
    // Only one alphabet has `+` and `/`, the other `-` and `_`: try by what the text holds.
    if text.contains(['-', '_']) {
        url_safe.decode(text)
    } else {
        standard.decode(text)
    }
}

/// The payload type of an in-toto Statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope, as serialised (one per line of an `.intoto.jsonl` file).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The statement, base64 (standard alphabet, padded).
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// A hint naming the key: the SHA-256 of its SubjectPublicKeyInfo DER, hex ([`fingerprint`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The Ed25519 signature over [`pae`], base64.
    pub sig: String,
}

/// Why a key or an envelope was refused. Each says what an auditor would check.
#[derive(Debug, thiserror::Error)]
pub enum DsseError {
    #[error("not an Ed25519 private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): {0}")]
    PrivateKey(String),
    #[error("not an Ed25519 public key in PEM (`-----BEGIN PUBLIC KEY-----`): {0}")]
    PublicKey(String),
    #[error("not a DSSE envelope: {0}")]
    Envelope(String),
    #[error("payload type is `{0}`, not `{PAYLOAD_TYPE}`")]
    PayloadType(String),
    #[error("the signature does not verify with key {key}: the statement was changed after signing, or another key signed it{hint}")]
    BadSignature { key: String, hint: String },
}

/// DSSE v1 pre-authentication encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// SHA-256 of the key's SubjectPublicKeyInfo DER, hex: the key id and the fingerprint reports show.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let der = key
        .to_public_key_der()
        .map(|d| d.into_vec())
        .unwrap_or_default();
    crate::load::sha256_hex(&der)
}

/// A new key pair from the operating system's randomness: (private PKCS#8 PEM, public SPKI PEM).
pub fn keygen() -> Result<(String, String), DsseError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| DsseError::PrivateKey(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    // PKCS#8 v1 (the secret only), as `openssl genpkey -algorithm ed25519` writes it: every reader
    // takes it.
    let private = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: seed,
        public_key: None,
    }
    .to_pkcs8_pem(LineEnding::LF)
    .map_err(|e| DsseError::PrivateKey(e.to_string()))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| DsseError::PublicKey(e.to_string()))?;
    Ok((private.to_string(), public))
}

pub fn read_private(pem: &str) -> Result<SigningKey, DsseError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| DsseError::PrivateKey(e.to_string()))
}

pub fn read_public(pem: &str) -> Result<VerifyingKey, DsseError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|e| DsseError::PublicKey(e.to_string()))
}

impl Envelope {
    /// Signs an in-toto statement.
    pub fn sign(statement: &[u8], key: &SigningKey) -> Envelope {
        let sig = key.sign(&pae(PAYLOAD_TYPE, statement));
        Envelope {
            payload: STANDARD.encode(statement),
            payload_type: PAYLOAD_TYPE.to_string(),
            signatures: vec![EnvelopeSignature {
                keyid: fingerprint(&key.verifying_key()),
                sig: STANDARD.encode(sig.to_bytes()),
            }],
        }
    }

    /// The first envelope of an `.intoto.jsonl` file.
    pub fn parse(text: &str) -> Result<Envelope, DsseError> {
        let line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .ok_or_else(|| DsseError::Envelope("the file is empty".into()))?;
        serde_json::from_str(line).map_err(|e| DsseError::Envelope(e.to_string()))
    }

    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default() + "\n"
    }

    /// The statement, once a signature by `key` over it verifies.
    pub fn verify(&self, key: &VerifyingKey) -> Result<Vec<u8>, DsseError> {
        if self.payload_type != PAYLOAD_TYPE {
            return Err(DsseError::PayloadType(self.payload_type.clone()));
        }
        let payload = decode_base64(&self.payload)
            .map_err(|e| DsseError::Envelope(format!("payload is not base64: {e}")))?;
        let message = pae(&self.payload_type, &payload);
        let id = fingerprint(key);
        let verified = self.signatures.iter().any(|s| {
            decode_base64(&s.sig)
                .ok()
                .and_then(|b| Signature::from_slice(&b).ok())
                .is_some_and(|sig| key.verify_strict(&message, &sig).is_ok())
        });
        if verified {
            return Ok(payload);
        }
        let named: Vec<&str> = self.signatures.iter().map(|s| s.keyid.as_str()).collect();
        let hint = if !named.is_empty() && !named.contains(&id.as_str()) {
            format!(" (the envelope names key {})", named.join(", "))
        } else {
            String::new()
        };
        Err(DsseError::BadSignature { key: id, hint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_specs_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn signs_verifies_and_refuses_a_change_or_another_key() {
        let (private, public) = keygen().unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        let key = read_private(&private).unwrap();
        let public = read_public(&public).unwrap();
        let env = Envelope::sign(b"{\"a\":1}", &key);
        assert_eq!(env.verify(&public).unwrap(), b"{\"a\":1}");
        let mut changed = env.clone();
        changed.payload = STANDARD.encode(b"{\"a\":2}");
        assert!(matches!(
            changed.verify(&public),
            Err(DsseError::BadSignature { .. })
        ));
        let (_, other) = keygen().unwrap();
        let err = env.verify(&read_public(&other).unwrap()).unwrap_err();
        assert!(err.to_string().contains("the envelope names key"), "{err}");
    }

    #[test]
    fn url_safe_and_unpadded_base64_verify_as_envelope_md_allows() {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        let (private, public) = keygen().unwrap();
        let key = read_private(&private).unwrap();
        let public = read_public(&public).unwrap();
        // A payload whose standard encoding has `+`, `/` and padding.
        let statement = b"{\"a\":\"\xfb\xff\xfe\"}";
        let env = Envelope::sign(statement, &key);
        assert!(env.payload.contains(['+', '/']), "{}", env.payload);
        let sig = STANDARD.decode(&env.signatures[0].sig).unwrap();
        for engine in [&STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            let mut other = env.clone();
            other.payload = engine.encode(statement);
            other.signatures[0].sig = engine.encode(&sig);
            assert_eq!(other.verify(&public).unwrap(), statement.to_vec());
        }
    }
}
