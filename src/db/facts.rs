//! What the database says about one token (`DbFacts`, judged by `token::check`): its
//! owner, the owner's active organization and its settings as Label Studio applies them,
//! and, for a PAT, its jti in the blacklist tables.

use super::{Database, OrgScope};
use crate::token::check::{DbFacts, OrgEffective};
use crate::token::{Inspection, TokenKind};

pub fn token_facts(db: &mut dyn Database, inspection: &Inspection) -> anyhow::Result<DbFacts> {
    let mut facts = DbFacts { database: db.target().to_string(), ..DbFacts::default() };
    match inspection.kind {
        TokenKind::Legacy => {
            facts.owner = db.legacy_key_owner(&inspection.token)?;
            facts.legacy_key_known = Some(facts.owner.is_some());
        }
        TokenKind::Pat | TokenKind::Access | TokenKind::TruncatedPat => {
            let claims = inspection.claims.clone().unwrap_or_default();
            if let Some(id) = claims.user_id.as_deref().and_then(|u| u.parse().ok()) {
                facts.owner = db.user_by_id(id)?;
            }
            if let Some(jti) = claims.jti.as_deref() {
                facts.jti = Some(db.jti_state(jti)?);
            }
        }
        TokenKind::Unknown => {}
    }
    if let Some(org_id) = facts.owner.as_ref().and_then(|o| o.active_organization_id) {
        let defaults = db.jwt_schema().model_defaults();
        if let Some(org) = db.read_scope(&OrgScope::ids(vec![org_id]))?.into_iter().next() {
            facts.organization = Some(OrgEffective {
                id: org.id,
                has_settings_row: org.row.is_some(),
                settings: org.effective(defaults),
            });
        }
    }
    Ok(facts)
}
