//! `gws-reference`: a reference Genesys Web Services (GWS 8.5.2) server for the Voice API operation
//! StartContactCenterSession (`POST /api/v2/me`), with a catalogue of deliberate faults and one of
//! conforming variants.
//!
//! The crate shares nothing with the harness but the `schemas/` folder (which it does not read). See
//! `reference/README.md` for the behaviour table, the directory format and the fault catalogue.

mod app;
pub mod bayeux;
mod cometd;
mod contact_center;
pub mod directory;
pub mod fault;
pub mod notifications;
mod reply;
mod server;
mod session;
pub mod variant;
mod wire;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use directory::{Directory, DirectoryError};
pub use fault::{Fault, UnknownFault};
pub use notifications::NotificationBus;
pub use variant::{UnknownVariant, Variant};

/// Default request body limit (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long [`RunningServer::shutdown`] lets in-flight requests finish before it aborts the server task.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Everything [`start`] needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks an ephemeral port.
    pub addr: SocketAddr,
    pub directory: Directory,
    /// At most one deliberate deviation.
    pub fault: Option<Fault>,
    /// Conforming deviations (any number; they combine with each other and with the fault).
    pub variants: Vec<Variant>,
    /// CSRF protection (`enableCsrfProtection: true` on a real node).
    pub csrf: bool,
    /// Largest accepted request body; larger bodies get HTTP 413.
    pub max_body_bytes: usize,
}

impl ServerConfig {
    /// A config with no fault, no variant, CSRF off and the default body limit.
    pub fn new(addr: SocketAddr, directory: Directory) -> ServerConfig {
        ServerConfig {
            addr,
            directory,
            fault: None,
            variants: Vec::new(),
            csrf: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// A server started by [`start`]. Dropping it also stops the server (without waiting).
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    bus: NotificationBus,
    _cometd: CometdGuard,
}

/// Closes the CometD endpoint's held connects and WebSockets when the server goes, so that neither a
/// graceful shutdown nor a dropped server waits for a 30-second long poll.
struct CometdGuard(Arc<app::App>);

impl Drop for CometdGuard {
    fn drop(&mut self) {
        self.0.bayeux.close_all();
    }
}

impl RunningServer {
    /// The bound address (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`; an unspecified bind address (0.0.0.0 or ::) is reported as 127.0.0.1.
    pub fn url(&self) -> String {
        format!("http://{}", client_addr(self.addr))
    }

    /// The per-agent notification bus the server publishes state changes on.
    pub fn notifications(&self) -> NotificationBus {
        self.bus.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 10 s), and waits for the server
    /// task to end.
    pub async fn shutdown(self) {
        self._cometd.0.bayeux.close_all();
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

fn client_addr(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    }
}

/// Binds `config.addr`, spawns the server on the current Tokio runtime and returns at once.
pub async fn start(config: ServerConfig) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let behaviour = variant::Behaviour::new(config.fault, &config.variants);
    let bus = NotificationBus::with_behaviour(behaviour);
    let base_url = format!("http://{}", client_addr(addr));
    let app = Arc::new(app::App {
        cc: contact_center::ContactCenter::new(config.directory, behaviour, base_url, bus.clone()),
        bayeux: bayeux::Bayeux::new(bus.clone(), behaviour.variants),
        sessions: session::SessionStore::default(),
        behaviour,
        csrf: config.csrf,
        max_body_bytes: config.max_body_bytes,
        references: AtomicU64::new(0),
    });
    let router = Router::new()
        .fallback(server::handle)
        .with_state(app.clone());
    let (tx, rx) = oneshot::channel::<()>();
    // Small writes (CometD frames above all) must not wait for the peer's delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        shutdown: tx,
        task,
        bus,
        _cometd: CometdGuard(app),
    })
}
