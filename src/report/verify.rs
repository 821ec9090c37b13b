//! `verify`: was this report produced from the files in this working tree?
//!
//! Recomputes the SHA-256 of every input the report lists (case files, `variables.toml`, schemas,
//! the profile) and of its baseline, and looks for case files and schemas that the report does not
//! list (a case added since the run). Paths in a report are as the run saw them: relative ones are
//! resolved against `root` (the working directory by default).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::json::Report;

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

/// Checks every input of the report against the files under `root`.
pub fn verify(report: &Report, root: &Path) -> Vec<FileCheck> {
    let resolve = |p: &str| -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            root.join(path)
        }
    };
    let mut recorded: Vec<(String, String)> = report
        .run
        .inputs
        .iter()
        .map(|i| (i.path.clone(), i.sha256.clone()))
        .collect();
    if let Some(b) = &report.baseline {
        recorded.push((b.file.clone(), b.sha256.clone()));
    }
    let mut checks: Vec<FileCheck> = recorded
        .iter()
        .map(|(path, sha)| {
            let status = match std::fs::read(resolve(path)) {
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
        let Ok(entries) = std::fs::read_dir(resolve(if folder.is_empty() { "." } else { &folder }))
        else {
            continue;
        };
        let mut added: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(&format!(".{ext}")))
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

fn parent(p: &str) -> String {
    p.rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}
