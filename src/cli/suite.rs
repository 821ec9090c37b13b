//! How the suite is found (`--cases`, `--schemas`, the working directory, or the binary), and
//! `gws-conform suite export DIR`.
//!
//! Each folder is resolved on its own: the flag if given; else `cases/` (or `schemas/`) in the working
//! directory, so that in a checkout of the repository an edited case takes effect without a rebuild
//! and a suite copied into a folder runs as it is; else the copy built into the binary, so that an
//! installed `gws-conform run` works anywhere. The reference profile follows the same rule.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use gws_conform::load::source::{embedded_files, HARNESS_VERSION};
use gws_conform::load::{Dir, ProfileSource, SuiteSources, REFERENCE_PROFILE};

use gws_conform::load::{Env, Suite};

use super::embedded::Secrets;
use super::{exit, InputArgs};

/// A folder of the suite: the flag's, else the working directory's, else the embedded one.
fn resolve(flag: Option<&Path>, name: &'static str) -> Dir {
    match flag {
        Some(p) => Dir::Folder(p.to_path_buf()),
        None if Path::new(name).is_dir() => Dir::Folder(PathBuf::from(name)),
        None => Dir::Embedded(name),
    }
}

impl InputArgs {
    /// Where this command's suite comes from. `reference` says whether the profile defaults to the
    /// reference one (a run on the embedded server); otherwise, without `--profile`, credentials come
    /// from the environment.
    pub fn suite_sources(&self, reference: bool) -> SuiteSources {
        let profile = match &self.profile {
            Some(p) => Some(ProfileSource::File(p.clone())),
            None if !reference => None,
            None if Path::new(REFERENCE_PROFILE).is_file() => {
                Some(ProfileSource::File(PathBuf::from(REFERENCE_PROFILE)))
            }
            None => Some(ProfileSource::Embedded),
        };
        SuiteSources {
            cases: resolve(self.cases.as_deref(), "cases"),
            schemas: resolve(self.schemas.as_deref(), "schemas"),
            profile,
            keep_budget: gws_conform::load::kept::KEEP_BUDGET_BYTES,
        }
    }
}

/// Where the suite came from, for `lint` and `list`: "cases embedded in gws-conform 0.1.0, schemas
/// from schemas" (a surprise here is a folder the user did not mean to use).
pub fn describe(sources: &SuiteSources) -> String {
    let one = |label: &str, d: &Dir| match d {
        Dir::Embedded(_) => format!("{label} embedded in gws-conform {HARNESS_VERSION}"),
        Dir::Folder(p) => format!("{label} from {}", p.display()),
    };
    format!(
        "{}, {}",
        one("cases", &sources.cases),
        one("schemas", &sources.schemas)
    )
}

#[derive(Args)]
pub struct SuiteArgs {
    #[command(subcommand)]
    pub command: SuiteCommand,
}

#[derive(Subcommand)]
pub enum SuiteCommand {
    /// Write the suite built into this binary (cases, schemas, the reference profile, spec notes) to
    /// DIR, to edit it and run it with `--cases DIR/cases --schemas DIR/schemas`.
    Export(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    /// The folder to write to (created if missing).
    pub dir: PathBuf,
    /// Write into a folder that is not empty (files of the suite are overwritten).
    #[arg(long)]
    pub force: bool,
}

pub fn suite(args: &SuiteArgs) -> u8 {
    match &args.command {
        SuiteCommand::Export(a) => match export(&a.dir, a.force) {
            Ok(n) => {
                outln!(
                    "exported {n} files of the suite of gws-conform {HARNESS_VERSION} to {}",
                    a.dir.display()
                );
                exit::PASS
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::ERROR
            }
        },
    }
}

/// Writes every embedded file under `dir` at its repository path; refuses a folder that holds
/// anything unless `force`, so that an export never mixes into (or overwrites) someone's work.
fn export(dir: &Path, force: bool) -> Result<usize, String> {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some());
    if occupied && !force {
        return Err(format!(
            "{} is not empty; choose an empty folder, or give --force to overwrite the suite's files in it",
            dir.display()
        ));
    }
    for (path, bytes) in embedded_files() {
        let to = dir.join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&to, bytes).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    }
    Ok(embedded_files().len())
}

/// Loads the suite, printing every problem (file:line:col: field: message) on failure, and every
/// warning (same form) when it loads.
pub fn load_or_report(sources: &SuiteSources, env: &Env) -> Result<Suite, u8> {
    let loaded = gws_conform::load::load_suite_from(sources, env);
    if let Ok(suite) = &loaded {
        for w in &suite.profile.warnings {
            eprintln!("warning: {w}");
        }
    }
    loaded.map_err(|errors| {
        for d in &errors.0 {
            eprintln!("error: {d}");
        }
        eprintln!(
            "error: {} problem(s) found; nothing was run",
            errors.0.len()
        );
        exit::ERROR
    })
}

/// The environment `${env:...}` resolves against, the same for `run`, `lint` and `list`. A run on the
/// embedded server fills unset passwords with the ones it generates for that server. A real target
/// (`--target`, or a profile that names one) gets the process's environment alone: a generated
/// password sent to it would only turn every case into a 403. There an unset variable in the profile
/// is a load error, and a case file that names one is skipped with the reason.
pub fn environment(secrets: &Secrets, target_given: bool, input: &InputArgs) -> Env {
    let external = target_given
        || input
            .profile
            .as_deref()
            .is_some_and(gws_conform::load::Profile::names_target);
    if external {
        Env::from_process().unset_skips_case()
    } else {
        secrets.env()
    }
}

/// The selection the filters ask for, or the exit code after saying what is wrong with them: a bad
/// partition, or a `--skip` that matches no case (a typo must not pass unnoticed).
pub fn selection_or_report(
    filter: &super::FilterArgs,
    cases: &[gws_conform::model::CaseOutline],
) -> Result<gws_conform::plan::Selection, u8> {
    let selection = filter.selection().map_err(|e| {
        eprintln!("error: {e}");
        exit::ERROR
    })?;
    let unmatched = selection.unmatched_skips(cases);
    for u in &unmatched {
        eprintln!("error: {u}");
    }
    if unmatched.is_empty() {
        Ok(selection)
    } else {
        Err(exit::ERROR)
    }
}
