//! The outcomes of `lsauth token inspect` and `lsauth token test`.

use serde::Serialize;

use crate::clients::ClientResult;
use crate::diagnosis::{ApiUser, Cause};
use crate::token::{Inspection, TokenKind};
use crate::tokencheck::{DbFacts, SignatureCheck};

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub token: String,
    pub source: String,
    pub kind: TokenKind,
    pub description: &'static str,
    #[serde(flatten)]
    pub inspection: Inspection,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    pub signature: SignatureCheck,
    pub database: Option<DbFacts>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub token: String,
    pub source: String,
    pub kind: TokenKind,
    pub ok: bool,
    pub cause: Cause,
    pub explanation: String,
    pub fix: String,
    pub user: Option<ApiUser>,
    pub label_studio_version: Option<String>,
    pub url: String,
    pub url_source: String,
    /// The HTTP status and detail that decided the cause.
    pub status: Option<u16>,
    pub detail: Option<String>,
    pub database: Option<DbFacts>,
    pub warnings: Vec<String>,
    /// How each kind of client fares with this key, measured (single-token runs only).
    pub clients: Vec<ClientResult>,
}
