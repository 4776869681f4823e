//! The HTTP/JSON front-end: axum routes on hyper connections driven by our own accept loop,
//! which counts and limits connections and, on shutdown, stops accepting and lets every
//! connection finish the requests it already has (hyper's graceful shutdown).
//!
//! Only HTTP/1.1: the API is request/response with large streamed uploads, and clients are
//! tools and services on a trusted network. Malformed requests get hyper's 400.

mod auth;
mod error;
mod handlers;
mod ingest;
pub mod params;
pub(crate) mod routes;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::shared::Shared;

/// A client must send its request head within this time (slowloris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts until `shutdown` turns true; every connection task holds a clone of `alive`,
/// so the caller knows when all have finished.
pub(crate) async fn accept_until_shutdown(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
) {
    let router = routes::router(Arc::clone(&shared));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let m = &shared.metrics;
                    m.http_total.fetch_add(1, Ordering::Relaxed);
                    let max = shared.config.limits.max_http_connections as u64;
                    if m.http_open.fetch_add(1, Ordering::Relaxed) >= max {
                        m.http_open.fetch_sub(1, Ordering::Relaxed);
                        m.http_rejected.fetch_add(1, Ordering::Relaxed);
                        tokio::spawn(refuse(stream));
                        continue;
                    }
                    let task = serve_connection(
                        Arc::clone(&shared),
                        router.clone(),
                        stream,
                        shutdown.clone(),
                        alive.clone(),
                    );
                    tokio::spawn(task);
                }
                Err(error) => {
                    eprintln!("scipkv: HTTP accept failed: {error}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
}

async fn serve_connection(
    shared: Arc<Shared>,
    router: axum::Router,
    stream: TcpStream,
    mut shutdown: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let _ = stream.set_nodelay(true);
    let service = TowerToHyperService::new(router);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let shutting_down = *shutdown.borrow();
    if shutting_down {
        conn.as_mut().graceful_shutdown();
        let _ = conn.as_mut().await;
    } else {
        tokio::select! {
            _ = conn.as_mut() => {}
            _ = shutdown.changed() => {
                // Finish the request in flight (if any), then close.
                conn.as_mut().graceful_shutdown();
                let _ = conn.as_mut().await;
            }
        }
    }
    shared.metrics.http_open.fetch_sub(1, Ordering::Relaxed);
}

/// Tells an over-limit client why before closing; bounded in time.
async fn refuse(mut stream: TcpStream) {
    let body = r#"{"error":"too many connections"}"#;
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(reply.as_bytes())).await;
}
