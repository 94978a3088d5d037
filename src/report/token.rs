//! Rendering of `lsauth token inspect` and `lsauth token test`.

use comfy_table::Cell;

use super::{print_json, print_text, Output};
use crate::outcome::checks::Status;
use crate::outcome::token::{InspectReport, TestReport};

/// ✓/✗ (PASS/FAIL without colour) for a token that works or not.
fn mark(ok: bool, out: &Output) -> &'static str {
    super::mark(if ok { Status::Pass } else { Status::Fail }, out)
}

pub fn render_inspect(r: &InspectReport, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(r);
    }
    let mut t = format!("Token:     {} (from {})\nKind:      {}\n", r.subject.token, r.subject.source, r.description);
    if let Some(c) = &r.inspection.claims {
        if let Some(u) = &c.user_id {
            t.push_str(&format!("User id:   {}\n", crate::text::shown::outside(u)));
        }
        if let Some(j) = &c.jti {
            t.push_str(&format!("jti:       {}\n", crate::text::shown::outside(j)));
        }
    }
    if let Some(i) = &r.issued_at {
        t.push_str(&format!("Issued:    {i}\n"));
    }
    if let Some(e) = &r.expires_at {
        let state = if r.inspection.expired == Some(true) { "EXPIRED" } else { "not expired" };
        t.push_str(&format!("Expires:   {e} ({state})\n"));
    }
    // A verdict names its key in the note; "not an HS256 JWT" says where the key came from here.
    let from = match r.signature.state {
        crate::token::check::SignatureState::NotChecked => {
            r.signature.secret_key_source.as_deref().map(|s| format!(" [SECRET_KEY from {s}]")).unwrap_or_default()
        }
        _ => String::new(),
    };
    t.push_str(&format!("Signature: {}: {}{from}\n", r.signature.state, r.signature.note));
    if let Some(db) = &r.database {
        t.push_str(&format!("Database:  {}\n", db.database));
        if let Some(o) = &db.owner {
            t.push_str(&format!(
                "Owner:     {} (id {}, {}), active organization {}\n",
                crate::text::shown::outside(&o.email),
                o.id,
                if o.is_active { "active" } else { "INACTIVE" },
                o.active_organization_id.map(|i| i.to_string()).unwrap_or_else(|| "none".into())
            ));
        }
        if let Some(org) = &db.organization {
            t.push_str(&format!(
                "Org {}:    PATs {}, legacy tokens {}{}\n",
                org.id,
                super::on_off(org.settings.api_tokens_enabled),
                super::on_off(org.settings.legacy_api_tokens_enabled),
                if org.has_settings_row { "" } else { " (no settings row: defaults)" }
            ));
        }
        if let Some(j) = &db.jti {
            t.push_str(&format!("jti state: {}\n", serde_json::to_value(j)?["state"].as_str().unwrap_or("?")));
        }
    }
    for w in &r.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
    if r.problems.is_empty() {
        t.push_str(&format!("{} no problem found offline (lsauth token test asks the server)\n", mark(true, out)));
    } else {
        for p in &r.problems {
            t.push_str(&format!("{} {p}\n", mark(false, out)));
        }
    }
    print_text(&t)
}

pub fn render_test(r: &TestReport, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(r);
    }
    let mut t = format!(
        "{} {} ({})\nToken:   {} ({}, from {})\nServer:  {} (Label Studio {})\n",
        mark(r.verdict.ok, out),
        r.verdict.cause.as_str(),
        crate::text::shown::outside(&r.verdict.explanation),
        r.subject.token,
        r.subject.kind.as_str(),
        r.subject.source,
        r.url,
        crate::text::shown::outside(r.label_studio_version.as_deref().unwrap_or("?"))
    );
    if let Some(u) = &r.user {
        t.push_str(&format!(
            "User:    {} (id {})\n",
            crate::text::shown::outside(u.email.as_deref().unwrap_or("?")),
            u.id
        ));
    }
    if let Some(i) = &r.integration {
        t.push_str(&format!(
            "Client:  {} ({}; from {}): {}\n",
            i.integration.client.as_str(),
            i.integration.client.describe(),
            crate::text::shown::outside(&i.integration.from),
            if i.ok { "works" } else { "REFUSED" }
        ));
    }
    if !r.verdict.ok {
        t.push_str(&format!("Fix:     {}\n", r.verdict.fix));
    }
    for w in &r.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
    if !r.clients.is_empty() {
        t.push_str(&clients_table(&r.clients, r.integration.as_ref().map(|i| i.integration.client), out));
    }
    print_text(&t)
}

/// How each kind of client fares with the key: one row per client.
pub fn clients_table(
    clients: &[crate::token::clients::ClientResult],
    this: Option<crate::token::clients::ClientId>,
    out: &Output,
) -> String {
    let mut table = out.table();
    table.set_header(vec!["Client", "Sends", "Result"]);
    for c in clients {
        let result = match (c.ok, c.status) {
            (true, _) => format!("{} ok", mark(true, out)),
            (false, Some(status)) => {
                format!(
                    "{} {status} {}",
                    mark(false, out),
                    crate::text::shown::outside(c.detail.as_deref().unwrap_or(""))
                )
            }
            (false, None) => {
                format!(
                    "{} {}",
                    mark(false, out),
                    crate::text::shown::outside(c.detail.as_deref().unwrap_or("no answer"))
                )
            }
        };
        let id = if this == Some(c.id) { format!("{} (this one)", c.id.as_str()) } else { c.id.as_str().to_string() };
        table.add_row(vec![Cell::new(id), Cell::new(c.sends), Cell::new(result)]);
    }
    format!("Clients:\n{table}\n")
}

pub fn render_many(reports: &[TestReport], out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(&serde_json::json!({ "results": reports }));
    }
    let mut table = out.table();
    table.set_header(vec!["Source", "Token", "Kind", "Result", "User", "Fix"]);
    for r in reports {
        table.add_row(vec![
            Cell::new(&r.subject.source),
            Cell::new(&r.subject.token),
            Cell::new(r.subject.kind.as_str()),
            Cell::new(format!("{} {}", mark(r.verdict.ok, out), r.verdict.cause.as_str())),
            Cell::new(crate::text::shown::outside(
                r.user.as_ref().and_then(|u| u.email.as_deref()).unwrap_or_default(),
            )),
            Cell::new(if r.verdict.ok { String::new() } else { r.verdict.fix.clone() }),
        ]);
    }
    let ok = reports.iter().filter(|r| r.verdict.ok).count();
    print_text(&format!("{table}\n{ok} of {} tokens work.\n", reports.len()))
}
