//! What a token is, from its text alone. Pure: no I/O.
//!
//! Label Studio knows two credentials: the legacy key (40 lowercase hex characters, sent
//! as `Authorization: Token <key>`) and the Personal Access Token, a simple-jwt *refresh*
//! token (HS256, signed with Django's SECRET_KEY) that clients exchange at
//! `/api/token/refresh/` for a 5-minute *access* token sent as `Bearer`. The token list and
//! the database hold PATs truncated to header.payload, which can never work.

pub mod check;
pub mod clients;
pub mod diagnosis;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

pub use crate::text::secrets::mask;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A legacy API key: `Authorization: Token <key>`.
    Legacy,
    /// A Personal Access Token (JWT refresh token).
    Pat,
    /// A JWT access token: lives minutes, not for configuration.
    Access,
    /// A PAT without its signature, as the token list and the database show it.
    TruncatedPat,
    Unknown,
}

impl TokenKind {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Legacy => "legacy",
            TokenKind::Pat => "pat",
            TokenKind::Access => "access",
            TokenKind::TruncatedPat => "truncated_pat",
            TokenKind::Unknown => "unknown",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Legacy => "legacy API token (Authorization: Token)",
            TokenKind::Pat => "Personal Access Token (JWT refresh token)",
            TokenKind::Access => "JWT access token (lives 5 minutes; not for configuration)",
            TokenKind::TruncatedPat => "truncated PAT (header.payload only, as listed by Label Studio; cannot work)",
            TokenKind::Unknown => "not a Label Studio token",
        }
    }
}

/// Something wrong with how the token was written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum Blemish {
    /// Spaces or tabs before or after it.
    SurroundingWhitespace,
    /// Quotes around it.
    Quotes,
    /// A line break or space inside it.
    InnerWhitespace,
    /// `Token ` or `Bearer ` pasted into the value: clients add their own.
    SchemePrefix { prefix: String },
}

impl Blemish {
    /// Whether a client that sends the value verbatim fails because of it. Loaders strip
    /// surrounding whitespace and quotes from .env values; nothing strips the rest.
    pub fn breaks_clients(&self) -> bool {
        matches!(self, Blemish::InnerWhitespace | Blemish::SchemePrefix { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Blemish::SurroundingWhitespace => "whitespace around the token".into(),
            Blemish::Quotes => "quotes around the token".into(),
            Blemish::InnerWhitespace => "a line break or space inside the token".into(),
            Blemish::SchemePrefix { prefix } => format!("a {prefix:?} prefix pasted into the value"),
        }
    }
}

/// Decoded JWT claims that matter to Label Studio.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub token_type: Option<String>,
    pub user_id: Option<String>,
    pub jti: Option<String>,
    /// Seconds since the epoch.
    pub iat: Option<i64>,
    pub exp: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// Not serialized: every report that shows an inspection names the kind once, in its
    /// `TokenSubject` (a second `"kind"` key in one object is a document scripts misread).
    #[serde(skip)]
    pub kind: TokenKind,
    /// The token with the blemishes removed: what lsauth tests.
    #[serde(skip)]
    pub token: String,
    pub blemishes: Vec<Blemish>,
    /// JWT header algorithm, when it is a JWT.
    pub algorithm: Option<String>,
    pub claims: Option<Claims>,
    /// `Some(true)` once `exp` has passed.
    pub expired: Option<bool>,
}

fn decode_json(part: &str) -> Option<serde_json::Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

fn claims_of(payload: &serde_json::Value) -> Claims {
    let text = |k: &str| match payload.get(k) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let int = |k: &str| payload.get(k).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)));
    Claims {
        token_type: text("token_type"),
        user_id: text("user_id"),
        jti: text("jti"),
        iat: int("iat"),
        exp: int("exp"),
    }
}

/// Remove what people paste around a token, saying what was removed.
fn clean(raw: &str) -> (String, Vec<Blemish>) {
    let mut blemishes = Vec::new();
    let mut text = raw;
    let trimmed = text.trim();
    if trimmed.len() != text.len() {
        blemishes.push(Blemish::SurroundingWhitespace);
        text = trimmed;
    }
    for quote in ['"', '\''] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            blemishes.push(Blemish::Quotes);
            text = text[1..text.len() - 1].trim();
            break;
        }
    }
    for prefix in ["Token ", "Bearer "] {
        // get() instead of slicing: the text may hold multi-byte characters anywhere.
        match text.get(..prefix.len()) {
            Some(head) if text.len() > prefix.len() && head.eq_ignore_ascii_case(prefix) => {
                blemishes.push(Blemish::SchemePrefix { prefix: head.trim_end().to_string() });
                text = text[prefix.len()..].trim_start();
                break;
            }
            _ => {}
        }
    }
    let mut token = text.to_string();
    if token.chars().any(char::is_whitespace) {
        blemishes.push(Blemish::InnerWhitespace);
        token.retain(|c| !c.is_whitespace());
    }
    (token, blemishes)
}

/// What `raw` is, at time `now` (seconds since the epoch).
pub fn inspect(raw: &str, now: i64) -> Inspection {
    let (token, blemishes) = clean(raw);
    let mut inspection =
        Inspection { kind: TokenKind::Unknown, token, blemishes, algorithm: None, claims: None, expired: None };
    let t = &inspection.token;
    if t.len() == 40 && t.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        inspection.kind = TokenKind::Legacy;
        return inspection;
    }
    let parts: Vec<&str> = t.split('.').collect();
    if !(2..=3).contains(&parts.len()) {
        return inspection;
    }
    let (Some(header), Some(payload)) = (decode_json(parts[0]), decode_json(parts[1])) else {
        return inspection;
    };
    let claims = claims_of(&payload);
    inspection.algorithm = header.get("alg").and_then(|a| a.as_str()).map(String::from);
    inspection.expired = claims.exp.map(|exp| exp <= now);
    inspection.kind = match (parts.len(), claims.token_type.as_deref()) {
        (2, _) => TokenKind::TruncatedPat,
        (3, Some("refresh")) if !parts[2].is_empty() => TokenKind::Pat,
        (3, Some("access")) if !parts[2].is_empty() => TokenKind::Access,
        _ => TokenKind::Unknown,
    };
    inspection.claims = Some(claims);
    inspection
}

/// Whether a JWT was signed with `secret` (HS256). `None` when it is not a signed HS256
/// JWT, so there is nothing to check.
pub fn signed_with(token: &str, secret: &str) -> Option<bool> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || signature.is_empty() {
        return None;
    }
    let alg = decode_json(header)?.get("alg")?.as_str()?.to_string();
    if alg != "HS256" {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    Some(mac.verify_slice(&signature).is_ok())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A JWT signed with `secret` (HS256 when `header` is `HS256`).
    pub fn jwt(header: &str, payload: &str, secret: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let p = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{h}.{p}.{s}")
    }

    pub const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
    const NOW: i64 = 1_800_000_000;

    fn pat(exp: i64) -> String {
        jwt(
            HS256,
            &format!(r#"{{"token_type":"refresh","exp":{exp},"iat":1700000000,"jti":"abc","user_id":"1"}}"#),
            "k",
        )
    }

    #[test]
    fn kinds() {
        assert_eq!(inspect("9d5125fc64aaa7572a0c653df23368f8aab9cdb6", NOW).kind, TokenKind::Legacy);
        assert_eq!(inspect("9D5125FC64AAA7572A0C653DF23368F8AAB9CDB6", NOW).kind, TokenKind::Unknown);
        let p = pat(NOW + 100);
        let i = inspect(&p, NOW);
        assert_eq!(i.kind, TokenKind::Pat);
        assert_eq!(i.claims.as_ref().unwrap().user_id.as_deref(), Some("1"));
        assert_eq!(i.claims.as_ref().unwrap().jti.as_deref(), Some("abc"));
        assert_eq!(i.expired, Some(false));
        assert_eq!(i.algorithm.as_deref(), Some("HS256"));
        let truncated = p.rsplit_once('.').unwrap().0;
        assert_eq!(inspect(truncated, NOW).kind, TokenKind::TruncatedPat);
        let access = jwt(HS256, r#"{"token_type":"access","exp":1800000300,"user_id":1}"#, "k");
        let i = inspect(&access, NOW);
        assert_eq!(i.kind, TokenKind::Access);
        assert_eq!(i.claims.unwrap().user_id.as_deref(), Some("1"), "numeric user_id read as text");
        assert_eq!(inspect("abc.def.ghi", NOW).kind, TokenKind::Unknown);
        assert_eq!(inspect(&pat(NOW - 1), NOW).expired, Some(true));
    }

    #[test]
    fn blemishes_are_named_and_removed() {
        let key = "9d5125fc64aaa7572a0c653df23368f8aab9cdb6";
        let i = inspect(&format!("  \"Token {key}\"\n"), NOW);
        assert_eq!(i.kind, TokenKind::Legacy);
        assert_eq!(i.token, key);
        assert_eq!(
            i.blemishes,
            vec![Blemish::SurroundingWhitespace, Blemish::Quotes, Blemish::SchemePrefix { prefix: "Token".into() }]
        );
        assert!(i.blemishes.iter().any(Blemish::breaks_clients));
        let p = pat(NOW + 5);
        let i = inspect(&format!("bearer {}\n{}", &p[..10], &p[10..]), NOW);
        assert_eq!(i.kind, TokenKind::Pat);
        assert!(i.blemishes.contains(&Blemish::InnerWhitespace));
        let i = inspect(&format!("'{key}'"), NOW);
        assert_eq!(i.blemishes, vec![Blemish::Quotes]);
        assert!(!i.blemishes.iter().any(Blemish::breaks_clients));
    }

    #[test]
    fn signatures() {
        let p = pat(NOW + 100);
        assert_eq!(signed_with(&p, "k"), Some(true));
        assert_eq!(signed_with(&p, "other"), Some(false));
        assert_eq!(signed_with(p.rsplit_once('.').unwrap().0, "k"), None);
        assert_eq!(signed_with("9d5125fc64aaa7572a0c653df23368f8aab9cdb6", "k"), None);
        let none = jwt(r#"{"alg":"none"}"#, r#"{"token_type":"refresh"}"#, "k");
        assert_eq!(signed_with(&none, "k"), None);
    }

    #[test]
    fn never_panics_on_random_bytes() {
        // A fixed xorshift sequence: reproducible, and wide enough to reach every branch
        // (dots, quotes, prefixes, multi-byte text, base64 alphabets).
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let pieces: [&[u8]; 10] = [b".", b"eyJ", b"Token ", b"\"", b"\xc3\xa9", b"\xff", b"=", b"\n", b"a", b"e30"];
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let mut bytes = Vec::new();
            for _ in 0..len {
                let r = next();
                if r % 3 == 0 {
                    bytes.extend_from_slice(pieces[(r as usize / 3) % pieces.len()]);
                } else {
                    bytes.push((r >> 8) as u8);
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = inspect(&text, NOW);
            let _ = signed_with(&text, "k");
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let samples = [
            "",
            " ",
            ".",
            "..",
            "...",
            "a.b",
            "\u{0}",
            "é.é.é",
            "eyJ.eyJ.",
            "Token",
            "Bearer ",
            "\"",
            "''",
            "eyJhbGciOiJIUzI1NiJ9.e30.",
            "e30.e30.e30",
            "=====.====",
            "Token Bearer x",
        ];
        for s in samples {
            let _ = inspect(s, NOW);
            let _ = signed_with(s, "k");
        }
        // Every byte string of length up to 3 over a small alphabet, as text.
        let alphabet = ["a", ".", " ", "\"", "=", "é", "\n", "-", "_"];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let s = format!("{a}{b}{c}");
                    let _ = inspect(&s, NOW);
                    let _ = signed_with(&s, "");
                }
            }
        }
    }
}
