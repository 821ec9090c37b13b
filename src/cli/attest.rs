//! `keygen` (an Ed25519 key pair for signing), `attest` (sign a report's result as an in-toto
//! attestation) and the attestation half of `verify`.

use std::path::{Path, PathBuf};

use clap::Args;

use gws_conform::report::attest::{self, dsse, Envelope};
use gws_conform::report::rederive::rederive;
use gws_conform::report::render::{render_from, Output};
use gws_conform::report::{write_atomic, Format, Report};

use super::exit;

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes beside it with
    /// `.pub` added.
    #[arg(long, short, default_value = "gws-conform-signing.pem")]
    pub output: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct AttestArgs {
    /// A report.json written by `run` or `merge`.
    pub report: PathBuf,
    /// The Ed25519 private key (PKCS#8 PEM, from `keygen` or `openssl genpkey -algorithm ed25519`).
    #[arg(long)]
    pub key: PathBuf,
}

pub fn keygen(args: &KeygenArgs) -> u8 {
    let public_path = PathBuf::from(format!("{}.pub", args.output.display()));
    for p in [&args.output, &public_path] {
        if p.exists() && !args.force {
            eprintln!("error: {} exists; give --force to replace it", p.display());
            return exit::ERROR;
        }
    }
    let (private, public) = match dsse::keygen() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    if let Err(e) = write_private(&args.output, private.as_bytes(), args.force) {
        eprintln!("error: {}: cannot write: {e}", args.output.display());
        return exit::ERROR;
    }
    if let Err(e) = write_atomic(&public_path, public.as_bytes()) {
        eprintln!("error: {e}");
        return exit::ERROR;
    }
    let id = dsse::read_public(&public)
        .map(|k| dsse::fingerprint(&k))
        .unwrap_or_default();
    outln!("private key: {} (keep it secret)", args.output.display());
    outln!("public key:  {} (sha256 {id})", public_path.display());
    exit::PASS
}

/// A private key file only its owner can read: always a new file (a file replaced with `--force` is
/// removed first, so that its mode, perhaps 0644, is not kept).
fn write_private(path: &Path, bytes: &[u8], force: bool) -> std::io::Result<()> {
    use std::io::Write;
    if force {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

pub fn read_signing_key(path: &Path) -> Result<ed25519_dalek::SigningKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the signing key: {e}", path.display()))?;
    dsse::read_private(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn attest(args: &AttestArgs) -> u8 {
    let key = match read_signing_key(&args.key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    match sign_report(&args.report, &key) {
        Ok(path) => {
            outln!("attestation: {}", path.display());
            // The HTML beside the report shows the attestation: rendered again to say so.
            let html = path.with_file_name(Format::Html.file_name());
            if html.is_file() {
                let out = vec![(Format::Html, Output::File(html.clone()))];
                match render_from(&args.report, out) {
                    Ok((_, r)) if r.iter().all(Result::is_ok) => {
                        outln!("html: {} (shows the attestation)", html.display())
                    }
                    Ok((_, r)) => r.iter().filter_map(|r| r.as_ref().err()).for_each(|e| {
                        eprintln!("error: {e}");
                    }),
                    Err(e) => eprintln!("error: {e}"),
                }
            }
            exit::PASS
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                SignError::Input(_) => exit::ERROR,
                SignError::Result(_) => exit::FAIL,
            }
        }
    }
}

/// Why a report was not signed: it could not be read or written (bad input, exit 2), or its result
/// does not follow from its records (exit 1).
#[derive(Debug)]
pub enum SignError {
    Input(String),
    Result(String),
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignError::Input(e) | SignError::Result(e) => f.write_str(e),
        }
    }
}

/// Signs the report's result, once it re-derives, into `attestation.intoto.jsonl` beside it.
pub fn sign_report(
    report_path: &Path,
    key: &ed25519_dalek::SigningKey,
) -> Result<PathBuf, SignError> {
    let bytes = std::fs::read(report_path)
        .map_err(|e| SignError::Input(format!("{}: cannot read: {e}", report_path.display())))?;
    let report = Report::parse(report_path, &String::from_utf8_lossy(&bytes))
        .map_err(|e| SignError::Input(e.to_string()))?;
    let wrong = rederive(&report);
    if let Some(first) = wrong.first() {
        return Err(SignError::Result(format!(
            "{}: not signed: its result does not follow from its records: {first} (`gws-conform verify` lists every disagreement)",
            report_path.display()
        )));
    }
    let statement = attest::statement(&report, &bytes);
    let envelope = Envelope::sign(statement.to_string().as_bytes(), key);
    let out = report_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(attest::FILE_NAME);
    write_atomic(&out, envelope.to_line().as_bytes())
        .map_err(|e| SignError::Input(e.to_string()))?;
    Ok(out)
}

/// The attestation half of `verify`: the problems found (empty: it holds), or why the key or the
/// envelope could not be read at all (bad input: `verify` exits 2).
pub fn check_attestation(
    attestation: &Path,
    public_key: &Path,
    report: &Report,
    report_bytes: &[u8],
) -> Result<Vec<String>, String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))
    };
    let key = read(public_key).and_then(|t| {
        dsse::read_public(&t).map_err(|e| format!("{}: {e}", public_key.display()))
    })?;
    let envelope = read(attestation)
        .and_then(|t| Envelope::parse(&t).map_err(|e| format!("{}: {e}", attestation.display())))?;
    let payload = match envelope.verify(&key) {
        Ok(p) => p,
        Err(e) => return Ok(vec![format!("{}: {e}", attestation.display())]),
    };
    let statement: serde_json::Value = match serde_json::from_slice(&payload) {
        Ok(s) => s,
        Err(e) => {
            return Ok(vec![format!(
                "{}: the signed statement is not JSON: {e}",
                attestation.display()
            )])
        }
    };
    Ok(attest::disagreements(&statement, report, report_bytes)
        .into_iter()
        .map(|d| format!("{}: {d}", attestation.display()))
        .collect())
}
