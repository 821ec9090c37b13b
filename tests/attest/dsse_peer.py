"""An independent DSSE / in-toto peer for tests/attest.rs, on securesystemslib (the DSSE and key
code the in-toto Python implementation uses) with pyca/cryptography.

  verify ENVELOPE.jsonl PUBLIC.pem REPORT.json   verify the signature (securesystemslib's DSSE
      Envelope.verify), the in-toto Statement v1 type and predicate type, and the report.json
      subject's sha256 against the file; print "ok" or the reason, exit 0 or 1.
  sign STATEMENT.json PRIVATE.pem OUT.jsonl      sign a statement (securesystemslib's CryptoSigner).

The key id is the SHA-256 of the public key's SubjectPublicKeyInfo DER, computed here by
pyca/cryptography, not taken from the envelope.
"""

import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def public_key(pem_path):
    with open(pem_path, "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    der = pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pub, hashlib.sha256(der).hexdigest()


def verify(envelope_path, pem_path, report_path):
    pub, keyid = public_key(pem_path)
    key = SSlibKey.from_crypto(pub, keyid=keyid, scheme="ed25519")
    with open(envelope_path, encoding="utf-8") as f:
        line = next(l for l in f if l.strip())
    envelope = Envelope.from_dict(json.loads(line))
    if envelope.payload_type != PAYLOAD_TYPE:
        return f"refused: payload type {envelope.payload_type}"
    try:
        envelope.verify([key], 1)
    except VerificationError as e:
        return f"refused: signature: {e}"
    return check_statement(json.loads(envelope.payload), report_path)


def check_statement(statement, report_path):
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        return f"refused: _type {statement.get('_type')}"
    if statement.get("predicateType") != "https://in-toto.io/attestation/test-result/v0.1":
        return f"refused: predicateType {statement.get('predicateType')}"
    if statement["predicate"].get("result") not in ("PASSED", "WARNED", "FAILED"):
        return f"refused: predicate result {statement['predicate'].get('result')}"
    with open(report_path, "rb") as f:
        actual = hashlib.sha256(f.read()).hexdigest()
    subject = next((s for s in statement["subject"] if s["name"] == "report.json"), None)
    if subject is None:
        return "refused: no report.json subject"
    if subject["digest"]["sha256"] != actual:
        return (
            f"refused: subject report.json has sha256 {subject['digest']['sha256']}, "
            f"the file {actual}"
        )
    return "ok"


def sign(statement_path, pem_path, out_path):
    with open(pem_path, "rb") as f:
        private = serialization.load_pem_private_key(f.read(), password=None)
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keyid = hashlib.sha256(der).hexdigest()
    signer = CryptoSigner(
        private, SSlibKey.from_crypto(private.public_key(), keyid=keyid, scheme="ed25519")
    )
    with open(statement_path, "rb") as f:
        payload = f.read()
    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(envelope.to_dict()) + "\n")
    return "ok"


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    result = {"verify": verify, "sign": sign}[command](*rest)
    print(result)
    sys.exit(0 if result == "ok" else 1)
