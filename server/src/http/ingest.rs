//! `PUT .../index`: a streamed upload. The body is never held whole: the async side pumps
//! frames through a small bounded channel to a blocking thread, where the engine's streaming
//! reader (which detects zstd/gzip itself) consumes it as a plain `Read`.
//!
//! Only an explicit end-of-body message ends the stream. If the request is abandoned
//! (deadline, disconnect, shutdown) the channel closes without it and the reader reports an
//! error, so a cut-off upload can never be mistaken for a complete, shorter index.

use std::io::{self, Read};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::error::ApiError;
use crate::auth::Principal;
use crate::scip_api::to_json;
use crate::shared::Shared;

/// Frames buffered between the socket and the ingest thread (each at most a few tens of
/// KiB), so a slow ingest pushes back on the client instead of filling memory.
const CHANNEL_FRAMES: usize = 16;
/// Read buffer in front of the ingest, as the CLI uses for files.
const READ_BUFFER: usize = 1 << 20;
/// Body bytes read and discarded after a 413 before answering: closing a socket with unread
/// input makes the kernel send a reset, which can destroy the response before the client
/// reads it. Small overruns get a clean answer; clients sending huge bodies should use
/// `Expect: 100-continue` (then nothing is sent at all).
const DRAIN_BYTES: u64 = 1 << 20;

enum Piece {
    Data(Bytes),
    End,
}

/// The blocking side of the bridge.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Piece>>,
    current: Bytes,
    ended: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(Piece::Data(b))) => self.current = b,
                Some(Ok(Piece::End)) => self.ended = true,
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "request abandoned before the body ended",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// How the pump ended, when it was not a clean end of body.
enum PumpFailure {
    TooLarge,
    Body(String),
}

/// Moves the body into the channel, enforcing the size limit.
async fn pump(
    body: &mut Body,
    tx: mpsc::Sender<io::Result<Piece>>,
    max: u64,
) -> Result<(), PumpFailure> {
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                let msg = format!("reading the request body failed: {e}");
                let _ = tx.send(Err(io::Error::other(msg.clone()))).await;
                return Err(PumpFailure::Body(msg));
            }
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing the upload needs
        };
        total += data.len() as u64;
        if total > max {
            let _ = tx
                .send(Err(io::Error::other("request body too large")))
                .await;
            return Err(PumpFailure::TooLarge);
        }
        if tx.send(Ok(Piece::Data(data))).await.is_err() {
            // The ingest stopped reading (it rejected the index); its error is the answer.
            return Ok(());
        }
    }
    let _ = tx.send(Ok(Piece::End)).await;
    Ok(())
}

/// Runs one upload and returns the ingest summary JSON.
pub(crate) async fn upload(
    shared: Arc<Shared>,
    principal: Principal,
    project: String,
    version: String,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, ApiError> {
    let max = shared.config.limits.max_body_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = body;
    if let Some(n) = declared.filter(|&n| n > max) {
        if n <= max.saturating_add(DRAIN_BYTES) {
            drain(&mut body, n).await;
        }
        return Err(ApiError::TooLarge(max));
    }
    let (tx, rx) = mpsc::channel(CHANNEL_FRAMES);
    let reader = ChannelReader {
        rx,
        current: Bytes::new(),
        ended: false,
    };
    let store = Arc::clone(&shared);
    let ingest = tokio::task::spawn_blocking(move || {
        let input = io::BufReader::with_capacity(READ_BUFFER, reader);
        store
            .scip
            .ingest(&principal.tenant, &project, &version, input)
    });
    let (pumped, ingested) = tokio::join!(pump(&mut body, tx, max), ingest);
    match pumped {
        Err(PumpFailure::TooLarge) => {
            drain(&mut body, DRAIN_BYTES).await;
            return Err(ApiError::TooLarge(max));
        }
        Err(PumpFailure::Body(msg)) => return Err(ApiError::BadRequest(msg)),
        Ok(()) => {}
    }
    let summary =
        ingested.map_err(|e| ApiError::Internal(format!("ingest task failed: {e}")))??;
    Ok(to_json(&summary, false)?)
}

/// Reads and discards up to `cap` bytes of what is left of the body.
async fn drain(body: &mut Body, cap: u64) {
    let mut seen = 0u64;
    while seen <= cap {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
            _ => return,
        }
    }
}
