//! Token classification and JWT decoding never panic on any input, and what they say is
//! consistent: a PAT or access token always comes with claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lsauth::token::{inspect, signed_with, TokenKind};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let inspection = inspect(&text, 1_800_000_000);
    if matches!(inspection.kind, TokenKind::Pat | TokenKind::Access | TokenKind::TruncatedPat) {
        assert!(inspection.claims.is_some());
    }
    if inspection.kind == TokenKind::Legacy {
        assert_eq!(inspection.token.len(), 40);
    }
    let _ = signed_with(&inspection.token, "secret");
    let _ = lsauth::text::secrets::mask(&text);
});
