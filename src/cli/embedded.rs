//! The embedded reference server: started in-process on an ephemeral 127.0.0.1 port when `run` is
//! given no target, and by `serve` and `mutants`.

use std::net::SocketAddr;

use gws_conform::load::diagnostic::did_you_mean;
use gws_conform::load::Env;
use gws_reference::directory::BUILTIN_AGENTS;
use gws_reference::{Directory, Fault, RunningServer, ServerConfig, Variant};

use super::{exit, ServeArgs};

/// Environment variables the reference profile and cases read their secrets from.
pub const PASSWORD_VAR: &str = "GWS_PASSWORD";
pub const LOGIN_CODE_PASSWORD_VAR: &str = "GWS_AGENT_LOGIN_PASSWORD";

/// Fresh secrets for one embedded server: nobody can have written them down anywhere.
pub struct Secrets {
    pub agent_password: String,
    pub login_code_password: String,
}

impl Secrets {
    pub fn generate() -> Secrets {
        Secrets {
            agent_password: format!("pw-{}", random_hex()),
            login_code_password: format!("lc-{}", random_hex()),
        }
    }

    /// The environment the harness sees: the process's, plus these secrets where the process has none.
    pub fn env(&self) -> Env {
        let env = Env::from_process();
        let pw = env.get(PASSWORD_VAR).map(str::to_string);
        let lc = env.get(LOGIN_CODE_PASSWORD_VAR).map(str::to_string);
        env.with(PASSWORD_VAR, pw.as_deref().unwrap_or(&self.agent_password))
            .with(
                LOGIN_CODE_PASSWORD_VAR,
                lc.as_deref().unwrap_or(&self.login_code_password),
            )
    }

    fn effective(&self) -> (String, String) {
        let env = self.env();
        (
            env.get(PASSWORD_VAR).unwrap_or_default().to_string(),
            env.get(LOGIN_CODE_PASSWORD_VAR)
                .unwrap_or_default()
                .to_string(),
        )
    }
}

fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

/// Starts the reference server on 127.0.0.1 with an ephemeral port.
pub async fn start_embedded(
    secrets: &Secrets,
    fault: Option<Fault>,
    variants: &[Variant],
) -> std::io::Result<RunningServer> {
    let (pw, lc) = secrets.effective();
    let config = ServerConfig {
        fault,
        variants: variants.to_vec(),
        csrf: true,
        ..ServerConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Directory::builtin(&pw, &lc),
        )
    };
    gws_reference::start(config).await
}

/// A fault or variant by name. An unknown name gets a did-you-mean when one is close, else the list
/// of valid names; `list` is the command that lists them.
pub fn parse_named<T>(
    flag: &str,
    name: &str,
    valid: &[T],
    name_of: fn(&T) -> &'static str,
    list: &str,
) -> Result<T, String>
where
    T: std::str::FromStr + Copy,
    T::Err: std::fmt::Display,
{
    name.parse::<T>().map_err(|e| {
        match did_you_mean(name.trim(), valid.iter().map(name_of)) {
            Some(s) => format!(
                "{flag}: unknown name `{name}`; did you mean `{s}`? (`gws-conform {list} --list` lists them)"
            ),
            None => format!("{flag}: {e}"),
        }
    })
}

pub async fn serve(args: ServeArgs) -> u8 {
    let fault = match args
        .fault
        .as_deref()
        .map(|f| parse_named("--fault", f, Fault::ALL, Fault::name, "mutants"))
        .transpose()
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let variants = match args
        .variants
        .iter()
        .map(|v| parse_named("--variant", v, Variant::ALL, Variant::name, "variants"))
        .collect::<Result<Vec<Variant>, String>>()
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let secrets = Secrets::generate();
    let (pw, lc) = secrets.effective();
    let directory = match &args.directory {
        Some(path) => match Directory::load(path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        },
        None => Directory::builtin(&pw, &lc),
    };
    let config = ServerConfig {
        fault,
        variants: variants.clone(),
        csrf: !args.no_csrf,
        ..ServerConfig::new(args.addr, directory)
    };
    let server = match gws_reference::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.addr);
            return exit::ERROR;
        }
    };
    outln!("reference GWS server listening on {}", server.url());
    if args.directory.is_none() {
        if std::env::var_os(PASSWORD_VAR).is_none() {
            outln!("agents agent1..agent{BUILTIN_AGENTS}; their password was generated: export {PASSWORD_VAR} before starting to choose it");
        } else {
            outln!("agents agent1..agent{BUILTIN_AGENTS}; password from ${PASSWORD_VAR}");
        }
        // Sample 3's login code needs its own password (agentLoginPassword), which a run reads from
        // the same variable: without it, the two do not agree and Sample 3 fails for the setup.
        if std::env::var_os(LOGIN_CODE_PASSWORD_VAR).is_none() {
            outln!("login code agent1 (Sample 3): its agentLoginPassword was generated: export {LOGIN_CODE_PASSWORD_VAR} before starting to choose it, and give the run the same");
        } else {
            outln!(
                "login code agent1 (Sample 3): agentLoginPassword from ${LOGIN_CODE_PASSWORD_VAR}"
            );
        }
    }
    if let Some(f) = fault {
        outln!("fault: {} ({})", f.name(), f.description());
    }
    for v in &variants {
        outln!("variant: {} ({})", v.name(), v.description());
    }
    outln!(
        "CSRF protection: {}",
        if args.no_csrf { "off" } else { "on" }
    );
    wait_for_signal().await;
    outln!("shutting down");
    server.shutdown().await;
    exit::PASS
}

/// Ctrl-C and SIGTERM, caught from the moment this is created: a signal that arrives while the
/// suite loads or the embedded server starts still ends the run with a report marked incomplete,
/// instead of killing the process before anything is written.
pub struct StopSignal {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignal {
    /// Must be called inside the tokio runtime.
    pub fn install() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            StopSignal {
                signals: signal(SignalKind::interrupt())
                    .and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        {
            StopSignal {}
        }
    }

    /// Resolves when a signal has arrived (at once, if one already has).
    pub async fn wait(self) {
        #[cfg(unix)]
        {
            if let Some((mut int, mut term)) = self.signals {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
    StopSignal::install().wait().await
}
