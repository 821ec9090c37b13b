//! Stage 1, **load**: read and check case files, schemas and the target profile, and resolve every
//! variable, so that later stages never see a half-valid case.

pub mod case_file;
pub mod catalogue;
pub mod citations;
pub mod diagnostic;
pub mod duration;
pub mod kept;
pub mod locate;
pub mod matrix;
pub mod names;
pub mod profile;
#[cfg(test)]
mod robust;
pub mod schema_words;
pub mod schemas;
pub mod source;
pub mod timings;
mod toml_json;
pub mod variable_file;
pub mod vars;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub use diagnostic::{Diagnostic, LoadErrors};
pub use profile::{Agent, Profile};
pub use schemas::{SchemaSet, SchemaViolation};
pub use source::{Dir, Origin, SuiteOrigin};
pub use vars::Env;

use crate::model::{Case, CaseFile, CaseOutline, Sha256};
use crate::secret::Redactor;

/// How CometD messages travel (used by the notifications stage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    #[default]
    Auto,
    LongPolling,
    Websocket,
}

/// Everything a run needs, loaded and checked.
#[derive(Debug)]
pub struct Suite {
    /// Every case's outline, in id order. The full case comes from [`Suite::case`].
    pub cases: Vec<CaseOutline>,
    pub schemas: SchemaSet,
    pub profile: Profile,
    pub redactor: Redactor,
    /// What loads but deserves a word (`lint` and `list` print them): roles no case uses, cases whose
    /// role falls back to `default`, a required capability within a typo of a known one.
    pub warnings: Vec<Diagnostic>,
    /// `cases/variables.toml`, hashed like every other input.
    pub inputs: Vec<InputFile>,
    /// Where the case files and schemas came from (a folder, or the embedded suite).
    pub origin: SuiteOrigin,
    /// What rebuilding a case from its file needs, besides the profile, schemas and redactor.
    cases_dir: Dir,
    env: Env,
    /// `cases/variables.toml`: the synthetic values (defaults) and the lab variables' meanings.
    variables: variable_file::VariableFile,
    /// What the suite's cases share (see [`crate::intern`]); a case rebuilt from its file shares it too.
    interner: crate::intern::Interner,
}

impl Suite {
    /// The defaults of the case variables: `cases/variables.toml`'s synthetic values, which exist in
    /// no lab. Lab content has no default (see [`Suite::lab_variables`]).
    pub fn variable_defaults(&self) -> &BTreeMap<String, String> {
        &self.variables.synthetic
    }

    /// The lab variables (`[lab]` of `cases/variables.toml`) and their one-line meanings: content a
    /// profile must set for the cases that use it to run.
    pub fn lab_variables(&self) -> &BTreeMap<String, String> {
        &self.variables.lab
    }

    /// What `cases/variables.toml` says of each variable, with its place in the file, so that a
    /// profile written for a lab can tell its operator what each value must name.
    pub fn variable_meanings(&self) -> &BTreeMap<String, (usize, String)> {
        &self.variables.meanings
    }

    /// The full case for an outline: from the steps kept at load time, or rebuilt from its file,
    /// which must not have changed since the suite was loaded. Secrets found while rebuilding go to
    /// the suite's redactor, as they did at load time.
    pub fn case(&self, outline: &CaseOutline) -> Result<Case, String> {
        if let Some(case) = outline.kept_case() {
            return Ok(case);
        }
        let path = outline.file.path();
        let file = display_path(&path);
        let bytes = self
            .cases_dir
            .read(&path)
            .map_err(|e| format!("cannot re-read case file {file}: {e}"))?;
        let sha256 = Sha256::of(&bytes);
        if sha256 != outline.sha256 {
            return Err(format!(
                "case file {file} changed since the suite was loaded (SHA-256 was {}, is now {sha256}); load the suite again",
                outline.sha256
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("case file {file} is no longer UTF-8 text"))?;
        let ctx = LoadContext {
            env: &self.env,
            defaults: &self.variables.synthetic,
            lab: &self.variables.lab,
            case_vars: &Default::default(),
            profile: &self.profile,
            schemas: &self.schemas,
            redactor: &self.redactor,
            interner: &self.interner,
        };
        let cases = case_file::build_cases(&path, &text, sha256, &ctx).map_err(|d| {
            let first = d.first().map(ToString::to_string).unwrap_or_default();
            format!("case file {file} no longer loads: {first}")
        })?;
        let held: Vec<String> = cases.iter().map(|c| format!("`{}`", c.id)).collect();
        match cases.into_iter().find(|c| c.id == outline.id) {
            Some(case) => Ok(case),
            None => Err(format!(
                "case file {file} now holds {}, not `{}`",
                held.join(", "),
                outline.id
            )),
        }
    }

    /// Drops the steps kept at load time, so that [`Suite::case`] rebuilds each case from its file,
    /// as it does for cases past the budget.
    pub fn forget_cases(&mut self) {
        for c in &mut self.cases {
            c.steps = None;
        }
    }

    /// Whether any case's steps are kept in memory.
    pub fn keeps_cases(&self) -> bool {
        self.cases.iter().any(|c| c.steps.is_some())
    }

    /// Whether every case's steps are kept in memory: no case file is read again.
    pub fn keeps_every_case(&self) -> bool {
        self.cases.iter().all(|c| c.steps.is_some())
    }
}

/// A file the verdicts rest on, and its SHA-256.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct InputFile {
    pub path: String,
    pub sha256: crate::model::Digest,
}

/// Where to find the inputs, as folders on disk (see [`SuiteSources`] for the embedded suite).
#[derive(Debug, Clone)]
pub struct Sources {
    pub cases_dir: PathBuf,
    pub schemas_dir: PathBuf,
    pub profile: Option<PathBuf>,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            cases_dir: PathBuf::from("cases"),
            schemas_dir: PathBuf::from("schemas"),
            profile: None,
        }
    }
}

/// Where to find the inputs: each folder on disk or embedded in the binary.
#[derive(Debug, Clone)]
pub struct SuiteSources {
    pub cases: Dir,
    pub schemas: Dir,
    /// None: credentials from the environment (`Profile::from_environment`).
    pub profile: Option<ProfileSource>,
    /// The estimated bytes of parsed steps the suite may keep for its run (see [`kept`]).
    pub keep_budget: usize,
}

/// Where the profile comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    File(PathBuf),
    /// `profiles/reference.toml` as built into the binary.
    Embedded,
}

/// The repository path of the reference profile (on disk, and in the embedded suite).
pub const REFERENCE_PROFILE: &str = "profiles/reference.toml";

impl SuiteSources {
    /// The suite built into the binary, with the reference profile.
    pub fn embedded() -> SuiteSources {
        SuiteSources {
            cases: Dir::Embedded("cases"),
            schemas: Dir::Embedded("schemas"),
            profile: Some(ProfileSource::Embedded),
            keep_budget: kept::KEEP_BUDGET_BYTES,
        }
    }
}

impl From<&Sources> for SuiteSources {
    fn from(s: &Sources) -> SuiteSources {
        SuiteSources {
            cases: Dir::Folder(s.cases_dir.clone()),
            schemas: Dir::Folder(s.schemas_dir.clone()),
            profile: s.profile.clone().map(ProfileSource::File),
            keep_budget: kept::KEEP_BUDGET_BYTES,
        }
    }
}

pub(crate) struct LoadContext<'a> {
    pub env: &'a Env,
    pub defaults: &'a BTreeMap<String, String>,
    /// Lab variables (name and meaning): a case naming one the profile does not set is skipped.
    pub lab: &'a BTreeMap<String, String>,
    /// The names case files declare in their own `[vars]`, collected as they load: a profile may
    /// set those too.
    pub case_vars: &'a std::sync::Mutex<BTreeSet<String>>,
    pub profile: &'a Profile,
    pub schemas: &'a SchemaSet,
    pub redactor: &'a Redactor,
    pub interner: &'a crate::intern::Interner,
}

/// The name of the file of variable defaults in the cases folder.
pub const VARIABLES_FILE: &str = "variables.toml";

/// Loads the whole suite from folders on disk, reporting every problem found rather than the first.
pub fn load_suite(sources: &Sources, env: &Env) -> Result<Suite, LoadErrors> {
    load_suite_from(&SuiteSources::from(sources), env)
}

/// The profile and the bytes it was read from (None for the environment's).
fn load_profile(
    source: Option<&ProfileSource>,
    env: &Env,
    redactor: &Redactor,
) -> Result<(Profile, Option<Vec<u8>>), Vec<Diagnostic>> {
    let (path, bytes) = match source {
        None => return Profile::from_environment(env, redactor).map(|p| (p, None)),
        Some(ProfileSource::File(p)) => (p.clone(), std::fs::read(p)),
        Some(ProfileSource::Embedded) => (
            PathBuf::from(REFERENCE_PROFILE),
            Dir::Embedded("profiles").read(Path::new(REFERENCE_PROFILE)),
        ),
    };
    let bytes =
        bytes.map_err(|e| vec![Diagnostic::file(&path, format!("cannot read profile: {e}"))])?;
    let text = diagnostic::utf8_text(&path, bytes.clone()).map_err(|d| vec![d])?;
    Profile::parse(&path, &text, env, redactor).map(|p| (p, Some(bytes)))
}

/// Loads the whole suite, each folder from disk or the binary, reporting every problem found rather
/// than the first.
pub fn load_suite_from(sources: &SuiteSources, env: &Env) -> Result<Suite, LoadErrors> {
    let redactor = Redactor::new();
    let mut errors = Vec::new();

    let schemas = SchemaSet::load_from(&sources.schemas);
    let profile = load_profile(sources.profile.as_ref(), env, &redactor);
    let (schemas, profile) = match (schemas, profile) {
        (Ok(s), Ok(p)) => (s, p),
        (s, p) => {
            errors.extend(s.err().unwrap_or_default());
            errors.extend(p.err().unwrap_or_default());
            return Err(LoadErrors(errors));
        }
    };

    let (profile, profile_bytes) = profile;
    let mut inputs = Vec::new();
    let vars_path = sources.cases.join(VARIABLES_FILE);
    let variables = match sources.cases.read(&vars_path) {
        Ok(bytes) => {
            inputs.push(InputFile {
                path: display_path(&vars_path),
                sha256: Sha256::of(&bytes).into(),
            });
            let (v, problems) = variable_file::parse(&vars_path, bytes);
            errors.extend(problems);
            v
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
        Err(e) => {
            errors.push(Diagnostic::file(&vars_path, format!("cannot read: {e}")));
            Default::default()
        }
    };
    if let (Some(p), Some(bytes)) = (&profile.file, &profile_bytes) {
        inputs.push(InputFile {
            path: display_path(p),
            sha256: Sha256::of(bytes).into(),
        });
    }
    // The CA the run trusts is an input of its verdicts too: hashed as it was read.
    if let (Some(p), Some(sha256)) = (&profile.ca_file, &profile.ca_file_sha256) {
        inputs.push(InputFile {
            path: display_path(p),
            sha256: sha256.as_str().into(),
        });
    }

    let env = env.clone();
    let interner = crate::intern::Interner::default();
    let case_vars = std::sync::Mutex::new(BTreeSet::new());
    let ctx = LoadContext {
        env: &env,
        defaults: &variables.synthetic,
        lab: &variables.lab,
        case_vars: &case_vars,
        profile: &profile,
        schemas: &schemas,
        redactor: &redactor,
        interner: &interner,
    };
    let files = case_files(&sources.cases).map_err(|d| LoadErrors(vec![d]))?;
    let keep = kept::Kept::with_budget(sources.keep_budget);
    let loaded = load_cases(&sources.cases, &files, &keep, &ctx);
    let mut cases = loaded.outlines;
    errors.extend(loaded.problems);

    // Matrix files hold several cases each: the list ends at its exact size, as it is kept all run.
    cases.shrink_to_fit();
    let mut seen: BTreeMap<&str, &CaseFile> = BTreeMap::new();
    for c in &cases {
        if let Some(first) = seen.insert(&c.id, &c.file) {
            let file = c.file.path();
            let bytes = sources.cases.read(&file).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            errors.push(Diagnostic::new(
                &file,
                &text,
                locate::offset_of(&text, "id"),
                "id",
                format!(
                    "duplicate id `{}`, first used in {}",
                    c.id,
                    first.path().display()
                ),
            ));
        }
    }
    if let (Some(p), Some(bytes)) = (&profile.file, &profile_bytes) {
        let case_vars = case_vars.lock().map(|v| v.clone()).unwrap_or_default();
        errors.extend(variables.unknown_profile_vars(p, bytes, &profile, &case_vars));
    }
    errors.extend(names::check_spec(&cases));
    errors.extend(names::check_capabilities(&profile, &cases));
    if cases.is_empty() && errors.is_empty() {
        errors.push(Diagnostic::file(
            &sources.cases.path(),
            "no case files (*.toml) found",
        ));
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let mut warnings = names::role_warnings(&profile, &cases);
    warnings.extend(names::requires_warnings(&profile, &cases));
    Ok(Suite {
        cases,
        schemas,
        profile,
        redactor,
        warnings,
        inputs,
        origin: SuiteOrigin {
            cases: Origin::of(&sources.cases),
            schemas: Origin::of(&sources.schemas),
        },
        cases_dir: sources.cases.clone(),
        env,
        variables,
        interner,
    })
}

/// A case file's bytes, built into its cases (the same path for the suite's load and a rebuild).
pub(crate) fn case_from_bytes(
    path: &Path,
    bytes: Vec<u8>,
    ctx: &LoadContext,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let sha256 = Sha256::of(&bytes);
    let text = diagnostic::utf8_text(path, bytes).map_err(|d| vec![d])?;
    let cases = case_file::build_cases(path, &text, sha256, ctx)?;
    // Every citation of the spec must lead somewhere (spec/notes.md, spec/page.md).
    let unresolved: Vec<Diagnostic> = cases
        .iter()
        .flat_map(|c| citations::check(path, &text, c.source().unwrap_or_default()))
        .collect();
    if unresolved.is_empty() {
        Ok(cases)
    } else {
        Err(unresolved)
    }
}

/// What loading a run of case files gave: their outlines and their problems, each in file order.
#[derive(Default)]
struct Loaded {
    outlines: Vec<CaseOutline>,
    problems: Vec<Diagnostic>,
}

impl Loaded {
    fn append(&mut self, mut other: Loaded) {
        self.outlines.append(&mut other.outlines);
        self.problems.append(&mut other.problems);
    }
}

/// Reads and builds every case file, in file order, on up to one thread per core: loading is most
/// of a large suite's start-up (read, hash, parse, lint, check the request against its schema), and
/// each file is independent of the others. The outlines go straight into one list per thread: a
/// list per file would leave a hole in the heap per case once merged.
fn load_cases(dir: &Dir, files: &[PathBuf], keep: &kept::Kept, ctx: &LoadContext) -> Loaded {
    let some = |part: &[PathBuf]| -> Loaded {
        let mut loaded = Loaded {
            outlines: Vec::with_capacity(part.len()),
            problems: Vec::new(),
        };
        for path in part {
            let built = dir
                .read(path)
                .map_err(|e| vec![Diagnostic::file(path, format!("cannot read: {e}"))])
                .and_then(|bytes| case_from_bytes(path, bytes, ctx));
            match built {
                Ok(cases) => loaded
                    .outlines
                    .extend(cases.into_iter().map(|case| keep.outline(case))),
                Err(d) => loaded.problems.extend(d),
            }
        }
        loaded
    };
    // Threads cost more than they save on a small suite.
    const PER_THREAD: usize = 64;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len() / PER_THREAD)
        .max(1);
    if threads == 1 {
        return some(files);
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || some(part)))
            .collect();
        let mut all = Loaded::default();
        for h in handles {
            match h.join() {
                Ok(loaded) => all.append(loaded),
                // Loading never panics on bad input; if it ever did, the run stops here, loudly.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

/// Every `*.toml` in the folder except the variables file, sorted so that runs are reproducible.
fn case_files(dir: &Dir) -> Result<Vec<PathBuf>, Diagnostic> {
    let files = dir
        .files(".toml")
        .map_err(|e| Diagnostic::file(&dir.path(), format!("cannot read case folder: {e}")))?;
    Ok(files
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != VARIABLES_FILE))
        .collect())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::of(bytes).hex()
}

pub fn display_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Parses TOML into `T`, turning any error into a diagnostic with line, column and field path, and a
/// did-you-mean for unknown keys.
pub(crate) fn parse_toml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_diag(file, text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        toml_diag(file, text, &field, e.inner())
    })
}

fn toml_diag(file: &Path, text: &str, field: &str, e: &toml::de::Error) -> Diagnostic {
    let message = friendly_message(e.message());
    let offset = e
        .span()
        .map(|s| s.start)
        .or_else(|| locate::offset_of(text, field));
    Diagnostic::new(file, text, offset, field, message)
}

/// serde's "unknown field `mach`, expected one of `a`, `b`" becomes "unknown key `mach`; did you mean
/// `match`?", since the list of every key is noise when one of them is clearly meant.
pub(crate) fn friendly_message(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((key, expected)) = rest.split_once('`') {
            let names: BTreeSet<&str> = expected.split('`').skip(1).step_by(2).collect();
            return match diagnostic::did_you_mean(key, names.iter().copied()) {
                Some(s) => format!("unknown key `{key}`; did you mean `{s}`?"),
                None => format!(
                    "unknown key `{key}`; expected one of {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
        }
    }
    message.to_string()
}
