//! AUTH, and the gate every command passes: authenticated (when tokens are configured) and
//! allowed by the client's role. Follows Redis: before authentication only AUTH, HELLO and
//! QUIT run (PING included, everything else gets `-NOAUTH`).

use super::{CommandError, Reply, Session, Spec};
use crate::auth::Role;
use crate::keyspace::Keyspace;
use crate::resp::Value;
use crate::shared::Shared;

/// Commands that need more than the read role beyond their `write` flag.
const ADMIN_COMMANDS: &[&str] = &["flushdb", "debug"];

/// Refuses a command the session may not run.
pub(super) fn gate(session: &Session, spec: &Spec) -> Result<(), CommandError> {
    let Some(principal) = &session.principal else {
        return match spec.name {
            "auth" | "hello" | "quit" => Ok(()),
            _ => Err(CommandError::NoAuth),
        };
    };
    let needed = if ADMIN_COMMANDS.contains(&spec.name) {
        Role::Admin
    } else if spec.flags.contains(&"write") {
        Role::Write
    } else {
        Role::Read
    };
    if principal.role < needed {
        return Err(CommandError::NoPerm(spec.name));
    }
    Ok(())
}

/// Whether the session may write (used by paths that bypass [`gate`], e.g. coalescing).
pub(crate) fn may_write(session: &Session) -> bool {
    session
        .principal
        .as_ref()
        .is_some_and(|p| p.role >= Role::Write)
}

/// `AUTH token` or `AUTH tenant token` (Redis's `AUTH [username] password`).
pub(super) fn auth(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let (tenant, token) = match &args[1..] {
        [token] => (None, token),
        [tenant, token] => (Some(tenant.as_slice()), token),
        _ => return Err(CommandError::Syntax),
    };
    if shared.tokens.is_open() {
        return Err(CommandError::Other(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into(),
        ));
    }
    login(shared, session, tenant, token)?;
    Ok(Value::ok())
}

/// Switches the session to the token's principal; a failed attempt changes nothing.
pub(super) fn login(
    shared: &Shared,
    session: &mut Session,
    tenant: Option<&[u8]>,
    token: &[u8],
) -> Result<(), CommandError> {
    if shared.tokens.is_open() {
        // Redis accepts HELLO's AUTH for the default user without a password.
        return Ok(());
    }
    match shared.tokens.authenticate(tenant, token) {
        Some(principal) => {
            session.keyspace = Keyspace::new(&principal.tenant);
            session.client.state.lock().tenant = Some(principal.tenant.clone());
            session.principal = Some(principal);
            Ok(())
        }
        None => Err(CommandError::WrongPass),
    }
}
