//! `verify`: was this report produced from these files?
//!
//! Recomputes the SHA-256 of every input the report lists (case files, `variables.toml`, schemas,
//! the profile) and of its baseline, and looks for case files and schemas that the report does not
//! list (a case added since the run). The files are those of a [`Root`]: the suite built into this
//! binary (the default for a report whose run used it), or a folder, against which the report's
//! relative paths are resolved.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::baseline::Baseline;
use super::json::Report;
use crate::load::source::{self, Dir, Origin};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    Same,
    Changed {
        recorded: String,
        actual: String,
    },
    Missing(String),
    /// In a case or schema folder of the run, but not in the report.
    Added,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub path: String,
    pub status: FileStatus,
}

impl std::fmt::Display for FileCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.status {
            FileStatus::Same => write!(f, "same     {}", self.path),
            FileStatus::Changed { recorded, actual } => write!(
                f,
                "CHANGED  {}: the report has sha256 {recorded}, the working tree {actual}",
                self.path
            ),
            FileStatus::Missing(e) => write!(f, "MISSING  {}: {e}", self.path),
            FileStatus::Added => write!(
                f,
                "ADDED    {}: in the working tree, not in the report",
                self.path
            ),
        }
    }
}

/// What a report is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// The suite built into this binary; inputs outside it (a `--profile`, a baseline) are read
    /// from the working directory.
    Embedded,
    /// A folder: the report's relative paths are resolved against it.
    Folder(PathBuf),
}

impl Root {
    /// The folder given (`--root`), else the embedded suite when the run read its cases or schemas
    /// from it, else the working directory.
    pub fn for_report(report: &Report, given: Option<&Path>) -> Root {
        let embedded = |o: &Origin| matches!(o, Origin::Embedded { .. });
        match (given, &report.run.suite) {
            (Some(dir), _) => Root::Folder(dir.to_path_buf()),
            (None, Some(s)) if embedded(&s.cases) || embedded(&s.schemas) => Root::Embedded,
            (None, _) => Root::Folder(PathBuf::from(".")),
        }
    }

    /// Whether the embedded suite answers for this path.
    fn embeds(&self, path: &str) -> bool {
        *self == Root::Embedded
            && (source::embedded_file(path).is_some()
                || EMBEDDED_FOLDERS
                    .iter()
                    .any(|f| path.starts_with(&format!("{f}/"))))
    }

    fn resolve(&self, p: &str) -> PathBuf {
        match self {
            Root::Folder(root) if Path::new(p).is_relative() => root.join(p),
            _ => PathBuf::from(p),
        }
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        if self.embeds(path) {
            source::embedded_file(path)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!(
                            "not in the suite built into gws-conform {}",
                            source::HARNESS_VERSION
                        ),
                    )
                })
        } else {
            std::fs::read(self.resolve(path))
        }
    }

    /// The names in `folder` that end with `.ext`, or None when the folder cannot be read.
    fn list(&self, folder: &str, ext: &str) -> Option<Vec<String>> {
        let ending = format!(".{ext}");
        let names: Vec<String> = if self.embeds(&format!("{folder}/")) {
            let dir = Dir::Embedded(EMBEDDED_FOLDERS.iter().find(|f| **f == folder)?);
            dir.files(&ending)
                .ok()?
                .iter()
                .filter_map(|p| Some(p.file_name()?.to_str()?.to_string()))
                .collect()
        } else {
            let dir = self.resolve(if folder.is_empty() { "." } else { folder });
            std::fs::read_dir(dir)
                .ok()?
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(&ending))
                .collect()
        };
        Some(names)
    }
}

/// The folders of the embedded suite whose files a report lists.
const EMBEDDED_FOLDERS: &[&str] = &["cases", "schemas", "profiles"];

/// Checks every input of the report against the files of `root`.
pub fn verify(report: &Report, root: &Root) -> Vec<FileCheck> {
    let mut recorded: Vec<(String, String)> = report
        .run
        .inputs
        .iter()
        .map(|i| (i.path.clone(), i.sha256.to_string()))
        .collect();
    if let Some(b) = &report.baseline {
        recorded.push((b.file.clone(), b.sha256.clone()));
    }
    let mut checks: Vec<FileCheck> = recorded
        .iter()
        .map(|(path, sha)| {
            let status = match root.read(path) {
                Ok(bytes) => {
                    let actual = crate::load::sha256_hex(&bytes);
                    if actual == *sha {
                        FileStatus::Same
                    } else {
                        FileStatus::Changed {
                            recorded: sha.clone(),
                            actual,
                        }
                    }
                }
                Err(e) => FileStatus::Missing(e.to_string()),
            };
            FileCheck {
                path: path.clone(),
                status,
            }
        })
        .collect();

    // Folders whose every file of a kind was an input: the case folders (`*.toml`), as the cases
    // and `variables.toml` show, and the schema folders (`*.json`).
    let known: BTreeSet<&str> = recorded.iter().map(|(p, _)| p.as_str()).collect();
    let mut folders: BTreeSet<(String, &str)> = BTreeSet::new();
    for c in &report.cases {
        folders.insert((parent(&c.file), "toml"));
    }
    for (p, _) in &recorded {
        if p.ends_with("/variables.toml") || p == "variables.toml" {
            folders.insert((parent(p), "toml"));
        }
        if p.ends_with(".json") {
            folders.insert((parent(p), "json"));
        }
    }
    for (folder, ext) in folders {
        let Some(names) = root.list(&folder, ext) else {
            continue;
        };
        let mut added: Vec<String> = names
            .into_iter()
            .map(|n| {
                if folder.is_empty() {
                    n
                } else {
                    format!("{folder}/{n}")
                }
            })
            .filter(|p| !known.contains(p.as_str()))
            .collect();
        added.sort();
        checks.extend(added.into_iter().map(|path| FileCheck {
            path,
            status: FileStatus::Added,
        }));
    }
    checks
}

/// The baseline's entries as the report records them against those of the file it names, read
/// from `root` (a file that cannot be read or does not match its hash is already reported by
/// [`verify`]). An entry added, removed or changed in the report would change the verdict.
pub fn baseline_disagreements(report: &Report, root: &Root) -> Vec<String> {
    let Some(recorded) = &report.baseline else {
        return Vec::new();
    };
    let Ok(bytes) = root.read(&recorded.file) else {
        return Vec::new();
    };
    let loaded = match Baseline::from_bytes(Path::new(&recorded.file), &bytes) {
        Ok(b) => b,
        Err(e) => return vec![format!("the baseline the report names does not load: {e}")],
    };
    let mut out = Vec::new();
    let ids: BTreeSet<&str> = recorded
        .entries
        .iter()
        .chain(&loaded.entries)
        .map(|e| e.case.as_str())
        .collect();
    for id in ids {
        let text = |entries: &[crate::record::KnownFailure]| {
            entries
                .iter()
                .find(|e| e.case == id)
                .map(|e| format!("expires {}, {:?}", e.expires, e.reason))
                .unwrap_or_else(|| "absent".into())
        };
        let (r, f) = (text(&recorded.entries), text(&loaded.entries));
        if r != f {
            out.push(format!(
                "`baseline.entries[{id}]` is {r} in the report, but {f} in {}",
                recorded.file
            ));
        }
    }
    out
}

fn parent(p: &str) -> String {
    p.rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}
