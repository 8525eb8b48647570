//! Stator's HTTP front end: the only async part of the system. Accepts DynamoDB's
//! JSON-over-HTTP protocol, resolves the operation and the caller's scope, and runs
//! the synchronous engine in place, or on Tokio's bounded blocking pool where it may
//! block (`Engine::may_block`).

#![warn(missing_docs)]

mod auth;
mod connection;
mod http;
pub mod http1;

pub use http::Limits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use stator_engine::{Engine, EngineConfig};
use stator_storage::fjall_engine::FjallEngine;
use stator_storage::local::{LocalStore, SyncPolicy};
use stator_storage::mem::MemEngine;
use stator_storage::KvStore;

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum StorageChoice {
    /// In memory only.
    Memory,
    /// A durable store in this directory.
    Disk(PathBuf),
}

/// The sync policy for acknowledged writes.
#[derive(Debug, Clone, Copy)]
pub enum SyncMode {
    /// Sync before acknowledging (group commit).
    Always,
    /// Leave syncing to the OS.
    Never,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listen address.
    pub host: String,
    /// Listen port (0 = any free port).
    pub port: u16,
    /// Storage.
    pub storage: StorageChoice,
    /// Sync policy.
    pub sync: SyncMode,
    /// The account id.
    pub account_id: String,
    /// Opt-in delayed GSI propagation.
    pub gsi_propagation_delay: Option<std::time::Duration>,
    /// `Some(start ms)`: a manual clock for tests, and its admin endpoint.
    pub manual_clock: Option<u64>,
    /// How often housekeeping runs.
    pub housekeeping_interval: std::time::Duration,
    /// Stream shard lifetime.
    pub stream_rollover: std::time::Duration,
    /// Connection and in-flight request bounds.
    pub limits: http::Limits,
    /// The durable store's block cache, in bytes (with the memtables, what bounds its
    /// memory whatever the data size).
    pub cache_bytes: u64,
}

/// Sets up logging to stderr.
pub fn init_logging(filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Opens the store and the engine.
pub fn open_engine(config: &ServerConfig) -> Result<Engine, String> {
    let policy = match config.sync {
        SyncMode::Always => SyncPolicy::Always,
        SyncMode::Never => SyncPolicy::Never,
    };
    let store: Arc<dyn KvStore> = match &config.storage {
        StorageChoice::Memory => Arc::new(LocalStore::new(MemEngine::new(), policy)),
        StorageChoice::Disk(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let engine = open_fjall(dir, config.cache_bytes).map_err(|e| {
                format!(
                    "cannot open the store in {}: {e}. The data directory is damaged or not Stator's; \
                     Stator does not serve damaged data: restore the directory from a copy, or move it \
                     aside to start empty",
                    dir.display()
                )
            })?;
            Arc::new(LocalStore::new(engine, policy))
        }
    };
    let clock = match config.manual_clock {
        Some(start) => stator_engine::clock::Clock::manual(start),
        None => stator_engine::clock::Clock::system(),
    };
    let config = EngineConfig {
        gsi_propagation_delay: config.gsi_propagation_delay,
        clock: Arc::new(clock),
        housekeeping_interval: config.housekeeping_interval,
        stream_rollover: config.stream_rollover,
        ..EngineConfig::default()
    };
    Engine::open(store, config).map_err(|e| e.to_string())
}

/// Opens the durable engine. Recovery of some damaged journals makes the engine panic
/// (an assertion in fjall 3.1's journal reader) rather than return an error: that is
/// caught here and reported like any other damage, without the panic's noise.
fn open_fjall(dir: &std::path::Path, cache_bytes: u64) -> Result<FjallEngine, String> {
    let message = Arc::new(parking_lot::Mutex::new(None::<String>));
    let previous = std::panic::take_hook();
    let slot = message.clone();
    std::panic::set_hook(Box::new(move |info| {
        *slot.lock() = Some(info.to_string());
    }));
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| FjallEngine::open_with_cache(dir, cache_bytes)));
    std::panic::set_hook(previous);
    match result {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the storage engine failed while recovering ({})",
            message.lock().take().unwrap_or_else(|| "no detail".into()).replace('\n', " ")
        )),
    }
}

fn listen_address(config: &ServerConfig) -> Result<SocketAddr, String> {
    format!("{}:{}", config.host, config.port)
        .parse()
        .or_else(|_| {
            std::net::ToSocketAddrs::to_socket_addrs(&(config.host.as_str(), config.port))
                .map_err(|e| e.to_string())
                .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()))
        })
        .map_err(|e| format!("bad listen address {}:{}: {e}", config.host, config.port))
}

/// A non-blocking listening socket with the accept queue Tokio would give it (1,024).
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Runs the server until SIGINT or SIGTERM.
pub fn serve(config: ServerConfig) -> Result<(), String> {
    // Listen first: a client that connects while the store opens waits in the accept
    // queue and is answered as soon as the server runs, instead of being refused.
    let addr = listen_address(&config)?;
    let listener = bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let engine = Arc::new(open_engine(&config)?);
    stator_engine::housekeeping::start(&engine).map_err(|e| format!("cannot start housekeeping: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(256)
        .thread_name("stator")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let storage = match &config.storage {
            StorageChoice::Memory => "in memory".to_string(),
            StorageChoice::Disk(d) => format!("data in {}", d.display()),
        };
        // Before the line: from it on, SIGTERM and SIGINT stop the server gracefully.
        let shutdown = http::shutdown_signal();
        // Tests and scripts wait for this line (and read the port from it).
        println!("stator listening on http://{local} ({storage})");
        tracing::info!(%local, %storage, "stator listening");
        http::run(listener, engine, config.account_id.clone(), config.limits, shutdown).await;
        tracing::info!("stator stopped");
        Ok(())
    })
}
