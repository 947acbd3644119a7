//! Credentials on the HTTP API: `u`/`p` query parameters, HTTP Basic auth
//! or a Bearer JWT signed with `[http] shared-secret`, checked against the
//! users in the metadata when `[http] auth-enabled`, as InfluxDB 1.x does.
//! Password checks (bcrypt, deliberately slow) run on the blocking pool,
//! a bounded number at a time, and failed attempts are rate-limited per
//! client address and per user (429 past the allowance), so a flood of
//! wrong passwords cannot starve other requests. Credentials verified
//! before are recognised without bcrypt and never rate-limited.
//! Authorisation of a statement is the query engine's business; this module
//! only establishes who is asking.

use super::limits::{AuthKey, HttpLimits};
use super::HttpError;
use crate::node::Node;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the client presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    User { username: String, password: String },
    Token(String),
}

const NO_CREDENTIALS: &str = "unable to parse authentication credentials";
/// The 429 answer once an address or a user has used up its failed logins.
pub const TOO_MANY_FAILURES: &str = "too many failed authentication attempts, retry later";

/// Extracts credentials from the parameters or the Authorization header.
pub fn credentials(params: &HashMap<String, String>, headers: &HeaderMap) -> Option<Credentials> {
    if let Some(u) = params.get("u") {
        return Some(Credentials::User {
            username: u.clone(),
            password: params.get("p").cloned().unwrap_or_default(),
        });
    }
    let value = headers.get("authorization")?.to_str().ok()?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(Credentials::Token(token.trim().to_string()));
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Credentials::User {
        username: u.to_string(),
        password: p.to_string(),
    })
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Authentication is disabled.
    Anonymous,
    /// Authentication is enabled but no admin user exists yet: only the
    /// creation of an admin user is allowed.
    Bootstrap,
    /// An authenticated user.
    User(String),
}

impl Caller {
    pub fn user(&self) -> Option<String> {
        match self {
            Caller::User(u) => Some(u.clone()),
            _ => None,
        }
    }
}

/// A 401 as InfluxDB sends it, with the realm to answer with Basic auth.
fn unauthorized(node: &Node, message: impl Into<String>) -> HttpError {
    HttpError::new(StatusCode::UNAUTHORIZED, message).with_header(
        "www-authenticate",
        format!("Basic realm=\"{}\"", node.config.http.realm),
    )
}

/// Establishes the caller: credentials are required when auth is enabled
/// and an admin user exists. `peer` is the client address, for the
/// failed-login limit.
pub async fn authenticate(
    node: &Arc<Node>,
    limits: &HttpLimits,
    peer: Option<IpAddr>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Caller, HttpError> {
    if !node.config.http.auth_enabled {
        return Ok(Caller::Anonymous);
    }
    if !super::authorize::admin_exists(&node.meta.data()) {
        return Ok(Caller::Bootstrap);
    }
    match credentials(params, headers).ok_or_else(|| unauthorized(node, NO_CREDENTIALS))? {
        Credentials::Token(token) => authenticate_token(node, &token),
        Credentials::User { username, password } => {
            authenticate_password(node, limits, peer, username, password).await
        }
    }
}

/// `Authorization: Bearer <JWT>`: HS256/HS512 with `[http] shared-secret`,
/// claims `username` and `exp`, as InfluxDB 1.x checks them.
fn authenticate_token(node: &Node, token: &str) -> Result<Caller, HttpError> {
    let secret = &node.config.http.shared_secret;
    if secret.is_empty() {
        return Err(unauthorized(node, "bearer auth disabled"));
    }
    let now = models::now_nanos() / 1_000_000_000;
    let username =
        meta_service::jwt::verify_user(secret, token, now).map_err(|e| unauthorized(node, e))?;
    if node.meta.data().user(&username).is_none() {
        return Err(unauthorized(node, "user not found"));
    }
    Ok(Caller::User(username))
}

async fn authenticate_password(
    node: &Arc<Node>,
    limits: &HttpLimits,
    peer: Option<IpAddr>,
    username: String,
    password: String,
) -> Result<Caller, HttpError> {
    if username.is_empty() {
        return Err(unauthorized(node, "username required"));
    }
    let data = node.meta.data();
    if node.credentials.is_verified(&data, &username, &password) {
        return Ok(Caller::User(username));
    }
    let mut keys = Vec::with_capacity(2);
    if let Some(ip) = peer {
        keys.push(AuthKey::addr(ip));
    }
    if data.user(&username).is_some() {
        // Only real users: the map stays as small as the user list.
        keys.push(AuthKey::User(username.clone()));
    }
    if !limits.failed_auth.try_take(&keys, Instant::now()) {
        return Err(
            HttpError::new(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_FAILURES)
                .with_header("retry-after", "1".to_string()),
        );
    }
    let permit = limits
        .password_checks
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| HttpError::internal(e.to_string()))?;
    let n = node.clone();
    let user = username.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        n.credentials.authenticate(&data, &user, &password)
    })
    .await
    .map_err(|e| HttpError::internal(e.to_string()))?;
    match checked {
        Ok(()) => {
            limits.failed_auth.refund(&keys);
            Ok(Caller::User(username))
        }
        Err(e) => Err(unauthorized(node, e.to_string())),
    }
}

/// Requires an admin user (the `/debug` endpoints with
/// `pprof-auth-enabled`); InfluxDB's 403 text otherwise.
pub fn require_admin(node: &Node, caller: &Caller) -> Result<(), HttpError> {
    let ok = match caller {
        Caller::Anonymous => true,
        Caller::Bootstrap => false,
        Caller::User(u) => node.meta.data().user(u).is_some_and(|u| u.admin),
    };
    if ok {
        Ok(())
    } else {
        Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "error authorizing admin access",
        ))
    }
}

/// Refuses a write to `db` unless the caller may write there, with
/// InfluxDB's 403 texts.
pub fn check_write(node: &Node, caller: &Caller, db: &str) -> Result<(), HttpError> {
    let user = match caller {
        Caller::Anonymous => return Ok(()),
        Caller::Bootstrap => {
            return Err(HttpError::new(
                StatusCode::FORBIDDEN,
                format!("user is required to write to database {db:?}"),
            ))
        }
        Caller::User(u) => u,
    };
    if may_write(node, user, db) {
        Ok(())
    } else {
        Err(HttpError::new(
            StatusCode::FORBIDDEN,
            format!("{user:?} user is not authorized to write to database {db:?}"),
        ))
    }
}

fn may_write(node: &Node, user: &str, db: &str) -> bool {
    let data = node.meta.data();
    let Some(u) = data.user(user) else {
        return false;
    };
    u.admin
        || matches!(
            u.privileges.get(db),
            Some(meta::Privilege::Write | meta::Privilege::All)
        )
}
