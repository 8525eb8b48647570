//! The `stator` binary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use stator_server::{ServerConfig, StorageChoice, SyncMode};

/// mimalloc: the request path allocates many small, short-lived objects across the
/// runtime's and the blocking pool's threads, where glibc's malloc spent a third of the
/// CPU time (measured with perf on the GetItem workload).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MIB: u64 = 1024 * 1024;

/// Stator: a DynamoDB-compatible database server.
#[derive(Parser)]
#[command(name = "stator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the DynamoDB API over HTTP.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TCP port to listen on (0 picks a free port and prints it).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Directory of the durable store (created if missing).
    #[arg(long, default_value = "./stator-data", conflicts_with = "in_memory")]
    data_dir: PathBuf,
    /// Keep everything in memory: nothing is written to disk, nothing survives a restart.
    #[arg(long)]
    in_memory: bool,
    /// When an acknowledged write reaches the disk: `always` syncs before answering
    /// (concurrent writes share one sync), `never` leaves syncing to the OS (a crash of
    /// the process loses nothing, a power loss may).
    #[arg(long, value_enum, default_value_t = SyncArg::Always)]
    sync: SyncArg,
    /// Account id that owns the tables and appears in ARNs.
    #[arg(long, default_value = "000000000000")]
    account_id: String,
    /// Opt-in eventually consistent global secondary indexes: apply GSI changes this
    /// many milliseconds after the item write (default: in the write, atomically).
    #[arg(long)]
    gsi_propagation_delay_ms: Option<u64>,
    /// The server's clock: `system`, or `manual` for tests — time stands still at the
    /// start time until advanced through `POST /stator/clock` (see docs/testing.md).
    /// The endpoint exists only with `manual`.
    #[arg(long, value_enum, default_value_t = ClockArg::System)]
    clock: ClockArg,
    /// With `--clock manual`: the start time, in seconds since the Unix epoch
    /// (default: the real time at start-up).
    #[arg(long)]
    clock_start: Option<u64>,
    /// How often the housekeeping pass runs (TTL deletes, stream trimming), in ms.
    #[arg(long, default_value_t = 1000)]
    housekeeping_interval_ms: u64,
    /// How long a stream shard stays open before it closes and a child shard opens, in seconds.
    #[arg(long, default_value_t = 4 * 3600)]
    stream_shard_rollover_secs: u64,
    /// Most open client connections; one beyond is answered ThrottlingException and closed.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Most requests served at once (each may carry up to 16 MB); beyond, ThrottlingException.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// A connection that makes no progress for this long (no request answered or in
    /// flight, no response bytes written) is closed within twice this time.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_timeout_secs: u64,
    /// The durable store's block cache, in MiB: with the memtables, what bounds the
    /// server's memory whatever the data size (ignored with `--in-memory`).
    #[arg(long, default_value_t = stator_storage::fjall_engine::DEFAULT_CACHE_BYTES / MIB, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    cache_mib: u64,
    /// Log filter: error, warn, info, debug, trace, or a tracing directive.
    #[arg(long, default_value = "info")]
    log_level: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClockArg {
    System,
    Manual,
}

#[derive(Clone, Copy, ValueEnum)]
enum SyncArg {
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => {
            stator_server::init_logging(&a.log_level);
            let config = ServerConfig {
                host: a.host,
                port: a.port,
                storage: if a.in_memory { StorageChoice::Memory } else { StorageChoice::Disk(a.data_dir) },
                sync: match a.sync {
                    SyncArg::Always => SyncMode::Always,
                    SyncArg::Never => SyncMode::Never,
                },
                account_id: a.account_id,
                gsi_propagation_delay: a.gsi_propagation_delay_ms.map(std::time::Duration::from_millis),
                manual_clock: match a.clock {
                    ClockArg::System => None,
                    ClockArg::Manual => {
                        Some(a.clock_start.map_or_else(stator_engine::clock::system_now_ms, |s| s.saturating_mul(1000)))
                    }
                },
                housekeeping_interval: std::time::Duration::from_millis(a.housekeeping_interval_ms.max(10)),
                stream_rollover: std::time::Duration::from_secs(a.stream_shard_rollover_secs.max(1)),
                limits: stator_server::Limits {
                    max_connections: a.max_connections,
                    max_in_flight: a.max_in_flight,
                    idle_timeout: std::time::Duration::from_secs(a.idle_timeout_secs),
                },
                cache_bytes: a.cache_mib * MIB,
            };
            match stator_server::serve(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("stator: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
