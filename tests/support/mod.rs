//! Shared helpers for the integration tests: run the real binary, and small HTTP servers on
//! 127.0.0.1 that the tests control byte for byte.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gws-conform");

/// The repository root (tests run with it as the working directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with a hard time limit, so a hang fails the test instead of stalling CI.
pub fn run(args: &[&str], cwd: &Path, env: &[(&str, &str)], limit: Duration) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.env_remove("GWS_PASSWORD")
        .env_remove("GWS_USERNAME")
        .env_remove("GWS_AGENT_LOGIN_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn gws-conform");
    // Read both pipes while the child runs: a child that writes more than a pipe holds would
    // otherwise block until the time limit.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err_reader = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = out_reader.join().unwrap_or_default();
            let stderr = err_reader.join().unwrap_or_default();
            panic!(
                "gws-conform {args:?} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned(),
    }
}

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the test server does with a request: the raw bytes to write back (status line included),
/// or None to hold the connection open without answering.
pub type Handler = Arc<dyn Fn(&SeenRequest) -> Option<Vec<u8>> + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1: one thread per connection, keep-alive.
pub struct TestServer {
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start(handler: Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                thread::spawn(move || serve_connection(stream, handler));
            }
        });
        TestServer { addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve_connection(mut stream: TcpStream, handler: Handler) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut stream, &mut buf) else {
            return;
        };
        match handler(&req) {
            Some(bytes) => {
                if stream.write_all(&bytes).is_err() {
                    return;
                }
            }
            None => {
                // Hold the connection without answering, for a bounded time.
                thread::sleep(Duration::from_secs(5));
                return;
            }
        }
    }
}

/// Reads one request from `stream` (`buf` keeps what came after it, for keep-alive).
pub fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<SeenRequest> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + len].to_vec();
    buf.drain(..body_start + len);
    Some(SeenRequest {
        method,
        path,
        headers,
        body,
    })
}

/// A complete response with Content-Length.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A response whose body is sent chunked, in pieces of `piece` bytes.
pub fn chunked(status: &str, headers: &[(&str, &str)], body: &[u8], piece: usize) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    for c in body.chunks(piece.max(1)) {
        bytes.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        bytes.extend_from_slice(c);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    bytes
}

pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body).expect("gzip");
    enc.finish().expect("gzip")
}

/// A temporary copy of the repository's cases, schemas and profiles, to break on purpose.
pub fn workspace_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["cases", "schemas", "profiles"] {
        copy_dir(&root().join(sub), &dir.path().join(sub));
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_file() {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// `gws-conform serve` on an ephemeral 127.0.0.1 port, stopped when dropped.
pub struct Served {
    child: std::process::Child,
    pub url: String,
}

impl Served {
    /// Starts `serve --addr 127.0.0.1:0 EXTRA...` with these passwords; waits for its URL.
    pub fn start(extra: &[&str], password: &str, login_code_password: &str) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("GWS_PASSWORD", password)
            .env("GWS_AGENT_LOGIN_PASSWORD", login_code_password)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("serve prints its URL");
        // Keep draining: a closed pipe would kill the server at its next line of output.
        thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        Served { child, url }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reference profile with `csrf = false`, written into `dir` (the profile's mistake that the
/// run and `doctor` must both handle against a server that issues tokens).
pub fn reference_profile_without_csrf(dir: &Path) -> PathBuf {
    reference_profile_edited(dir, "nocsrf.toml", &[CSRF_OFF])
}

/// The edit that turns the reference profile's CSRF off.
pub const CSRF_OFF: (&str, &str) = ("csrf = true", "csrf = false");
/// The edit that makes the reference profile demand WebSocket for CometD.
pub const WEBSOCKET_ONLY: (&str, &str) = ("transport = \"auto\"", "transport = \"websocket\"");

/// The reference profile with each `(from, to)` edit made, written into `dir` as `name`.
pub fn reference_profile_edited(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join("profiles/reference.toml"))
        .expect("profiles/reference.toml");
    for (from, to) in edits {
        assert!(
            text.contains(from),
            "profiles/reference.toml has no `{from}`"
        );
        text = text.replace(from, to);
    }
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write the edited profile");
    p
}

/// A profile's text without its `[vars]` table (the lines from `[vars]` to the next table): the
/// reference profile's users and capabilities for another lab, whose content is set separately.
pub fn without_vars(text: &str) -> String {
    let mut out = String::new();
    let mut in_vars = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_vars = line.trim() == "[vars]";
        }
        if !in_vars {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
