//! Credentials on the HTTP API: `u`/`p` query parameters or HTTP Basic auth,
//! checked against the users in the metadata when `[http] auth-enabled`.
//! Authorisation of a statement is the query engine's business; this module
//! only establishes who is asking.

use super::HttpError;
use crate::node::Node;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Extracts credentials from the parameters or the Authorization header.
pub fn credentials(params: &HashMap<String, String>, headers: &HeaderMap) -> Option<Credentials> {
    if let Some(u) = params.get("u") {
        return Some(Credentials {
            username: u.clone(),
            password: params.get("p").cloned().unwrap_or_default(),
        });
    }
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Credentials {
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

/// Establishes the caller: credentials are required when auth is enabled
/// and an admin user exists.
pub fn authenticate(
    node: &Node,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Caller, HttpError> {
    if !node.config.http.auth_enabled {
        return Ok(Caller::Anonymous);
    }
    if !super::authorize::admin_exists(&node.meta.data()) {
        return Ok(Caller::Bootstrap);
    }
    let creds = credentials(params, headers).ok_or_else(|| {
        HttpError::new(
            StatusCode::UNAUTHORIZED,
            "unable to parse authentication credentials",
        )
    })?;
    let data = node.meta.data();
    node.credentials
        .authenticate(&data, &creds.username, &creds.password)
        .map_err(|e| HttpError::new(StatusCode::UNAUTHORIZED, e.to_string()))?;
    Ok(Caller::User(creds.username))
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
