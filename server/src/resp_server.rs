//! The server's life cycle: open the database, listen for RESP and HTTP, accept until a
//! shutdown signal, drain both kinds of connections, close the database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scipkv_engine::scip::store::ScipStore;
use scipkv_engine::{Db, OffsetClock};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::auth::Tokens;
use crate::clients::Clients;
use crate::config::Config;
use crate::connection::{self, ConnectionContext};
use crate::cursors::Cursors;
use crate::error::ServerError;
use crate::locks::KeyLocks;
use crate::metrics::Metrics;
use crate::shared::{Shared, Stats};
use crate::shutdown::Signals;
use crate::writer::WriteFront;

/// How long shutdown waits for connections to finish the requests they already received
/// (a client that stops reading its replies could otherwise hold shutdown forever).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Where the server ended up listening, reported once it accepts connections.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The bound addresses (with the real port when the configuration asked for port 0).
    pub resp: SocketAddr,
    pub http: SocketAddr,
    /// The data directory, or the volume when serving one.
    pub data_dir: PathBuf,
}

/// Runs the server until SIGTERM or SIGINT. Calls `on_listening` once the socket accepts
/// connections; returns after in-flight requests finished and the database was closed
/// (which syncs the WAL), so everything acknowledged is durable when this returns `Ok`.
pub fn serve(config: Config, on_listening: impl FnOnce(&Listening)) -> Result<(), ServerError> {
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads)
        .thread_name("scipkv-worker")
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    // The server hosts SCIP indexes, so tables get the SCIP store's layout (zstd blocks);
    // RESP values share it.
    let mut options = ScipStore::recommended_options();
    options.sync = config.sync;
    options.read_path = config.read_path;
    let clock = OffsetClock::new();
    options.clock = Arc::new(clock.clone());
    if let Some(size) = config.memtable_size {
        options.memtable_size = size;
    }
    let location = config.volume.as_ref().unwrap_or(&config.data_dir);
    let opened = match &config.volume {
        Some(volume) => Db::open_volume(volume, options),
        None => Db::open(&config.data_dir, options),
    };
    let db = opened.map_err(|source| ServerError::Open {
        dir: location.clone(),
        source,
    })?;
    let data_dir = std::fs::canonicalize(location).unwrap_or(location.clone());
    let mut writer_thread = None;
    let result: Result<(), ServerError> = runtime.block_on(async {
        let (listener, resp) = bind(&config.resp_addr).await?;
        let (http_listener, http) = bind(&config.http_addr).await?;
        let tokens = Tokens::new(config.tokens.clone());
        if tokens.is_open() {
            for addr in [resp, http] {
                if !addr.ip().is_loopback() {
                    return Err(ServerError::OpenOnNetwork { addr });
                }
            }
        }
        let signals = Signals::install().map_err(ServerError::Signals)?;
        let locks = Arc::new(KeyLocks::default());
        let (writes, writer) =
            WriteFront::start(db.clone(), Arc::clone(&locks)).map_err(ServerError::WriterThread)?;
        writer_thread = Some(writer);
        let shared = Arc::new(Shared {
            db: db.clone(),
            scip: ScipStore::from_db(db.clone()),
            config: config.clone(),
            tokens,
            resp_addr: resp,
            data_dir: data_dir.clone(),
            started: Instant::now(),
            clients: Arc::new(Clients::default()),
            cursors: Cursors::default(),
            locks,
            writes,
            stats: Stats::default(),
            metrics: Metrics::new(
                crate::commands::COMMANDS.iter().map(|c| c.name).collect(),
                crate::http::routes::route_names(),
            ),
            clock,
        });
        on_listening(&Listening {
            resp,
            http,
            data_dir,
        });
        accept_until_signal(shared, listener, http_listener, signals).await;
        Ok(())
    });
    // Connections that missed the drain deadline may still have an engine call running;
    // give it a moment so close() does not race with it.
    runtime.shutdown_timeout(Duration::from_secs(5));
    // Every RESP write handed over before this point is written before the engine closes.
    if let Some(writer) = writer_thread {
        writer.stop();
    }
    result?;
    db.close().map_err(ServerError::Close)
}

async fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), ServerError> {
    let error = |source| ServerError::Bind {
        addr: addr.to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

async fn accept_until_signal(
    shared: Arc<Shared>,
    listener: TcpListener,
    http_listener: TcpListener,
    mut signals: Signals,
) {
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let http = tokio::spawn(crate::http::accept_until_shutdown(
        Arc::clone(&shared),
        http_listener,
        shutdown_rx.clone(),
        alive_tx.clone(),
    ));
    loop {
        tokio::select! {
            name = signals.recv() => {
                eprintln!("scipkv: {name} received, shutting down");
                break;
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => admit(&shared, stream, peer, &shutdown_rx, &alive_tx),
                Err(error) => {
                    eprintln!("scipkv: accept failed: {error}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    let _ = shutdown_tx.send(true);
    // The HTTP accept loop returns (dropping its listener and its `alive` sender) at once.
    let _ = http.await;
    drop(alive_tx);
    // `recv` returns None once every connection task has dropped its sender.
    if tokio::time::timeout(DRAIN_TIMEOUT, alive_rx.recv())
        .await
        .is_err()
    {
        eprintln!(
            "scipkv: some connections did not finish within {DRAIN_TIMEOUT:?}; closing anyway"
        );
    }
}

fn admit(
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: &watch::Receiver<bool>,
    alive: &mpsc::Sender<()>,
) {
    Stats::add(&shared.stats.connections_received, 1);
    let local = stream.local_addr().unwrap_or(shared.resp_addr);
    let max = shared.config.limits.max_connections;
    match shared.clients.register(peer, local, max) {
        Some(registration) => {
            let ctx = ConnectionContext {
                shared: Arc::clone(shared),
                registration,
                shutdown: shutdown.clone(),
                _alive: alive.clone(),
            };
            tokio::spawn(connection::run(stream, ctx));
        }
        None => {
            Stats::add(&shared.stats.connections_rejected, 1);
            tokio::spawn(refuse(stream));
        }
    }
}

/// Tells an over-limit client why before closing, as Redis does; bounded in time so
/// refused clients cannot pile up.
async fn refuse(mut stream: TcpStream) {
    let reply = b"-ERR max number of clients reached\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(reply)).await;
}
