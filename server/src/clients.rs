//! The table of connected clients, for `CLIENT LIST`, `INFO clients` and the connection
//! limit. Each connection registers on accept and is removed when its guard drops, so the
//! count is right however the connection ends.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::resp::Protocol;

/// What other connections may see of one client. Mutable parts sit behind a small lock
/// taken only by `CLIENT`/`HELLO` and by the command loop once per command batch.
#[derive(Debug)]
pub(crate) struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub local_addr: SocketAddr,
    pub created: Instant,
    pub state: Mutex<ClientState>,
}

#[derive(Debug, Default)]
pub(crate) struct ClientState {
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub last_command: &'static str,
    pub last_active: Option<Instant>,
    pub protocol: Protocol,
    /// The tenant the client authenticated as; `CLIENT LIST` shows only its own tenant's.
    pub tenant: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Clients {
    next_id: AtomicU64,
    table: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
}

/// Removes the client from the table when the connection ends.
#[derive(Debug)]
pub(crate) struct Registration {
    clients: Arc<Clients>,
    pub info: Arc<ClientInfo>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.clients.table.lock().remove(&self.info.id);
    }
}

impl Clients {
    /// Adds a client unless `max` are already connected (then `None`: refuse it).
    pub(crate) fn register(
        self: &Arc<Self>,
        addr: SocketAddr,
        local_addr: SocketAddr,
        max: usize,
    ) -> Option<Registration> {
        let mut table = self.table.lock();
        if table.len() >= max {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            local_addr,
            created: Instant::now(),
            state: Mutex::new(ClientState::default()),
        });
        table.insert(id, Arc::clone(&info));
        Some(Registration {
            clients: Arc::clone(self),
            info,
        })
    }

    pub(crate) fn count(&self) -> usize {
        self.table.lock().len()
    }

    /// `CLIENT LIST` text: one line per client of `tenant`, in id order.
    pub(crate) fn list(&self, tenant: Option<&str>) -> String {
        let clients: Vec<Arc<ClientInfo>> = self.table.lock().values().cloned().collect();
        let mut out = String::new();
        for client in clients {
            if client.state.lock().tenant.as_deref() != tenant {
                continue;
            }
            out.push_str(&client.describe());
            out.push('\n');
        }
        out
    }
}

impl ClientInfo {
    /// One `CLIENT LIST` line in Redis's field order (fields we do not track are omitted).
    pub(crate) fn describe(&self) -> String {
        let state = self.state.lock();
        let now = Instant::now();
        let idle = state
            .last_active
            .map_or(now - self.created, |t| now.saturating_duration_since(t));
        let lossy = |b: &Option<Vec<u8>>| {
            b.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let mut line = String::new();
        let _ = write!(
            line,
            "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags=N db=0 cmd={} user=default resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.local_addr,
            lossy(&state.name),
            (now - self.created).as_secs(),
            idle.as_secs(),
            if state.last_command.is_empty() {
                "NULL"
            } else {
                state.last_command
            },
            match state.protocol {
                Protocol::Resp2 => 2,
                Protocol::Resp3 => 3,
            },
            lossy(&state.lib_name),
            lossy(&state.lib_ver),
        );
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_and_removal_on_drop() {
        let clients = Arc::new(Clients::default());
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let a = clients.register(addr, addr, 2).unwrap();
        let b = clients.register(addr, addr, 2).unwrap();
        assert!(clients.register(addr, addr, 2).is_none());
        assert_ne!(a.info.id, b.info.id);
        drop(a);
        assert_eq!(clients.count(), 1);
        assert!(clients.register(addr, addr, 2).is_some());
        assert!(clients.list(None).contains(&format!("id={} ", b.info.id)));
    }
}
