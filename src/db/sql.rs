//! The SQL both backends run, with `{placeholders}` each fills in its own way.

pub const JWT_MIGRATIONS_SQL: &str = "SELECT name FROM django_migrations WHERE app = 'jwt_auth' ORDER BY name";

/// One query for every organization: row, creator, active members and the legacy
/// token holders whose active organization it is (the org Label Studio consults). The
/// counts are aggregated once and hash-joined, so the plan stays linear at 100,000
/// organizations whatever the planner's statistics.
pub const ORGANIZATIONS_SQL: &str = "\
SELECT o.id, o.title, u.email, COALESCE(m.n, 0),
       s.organization_id IS NOT NULL, s.api_tokens_enabled, s.legacy_api_tokens_enabled,
       s.api_token_ttl_days, COALESCE(k.n, 0), COALESCE(k.inactive, 0)
  FROM organization o
  LEFT JOIN htx_user u ON u.id = o.created_by_id
  LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id
  LEFT JOIN (SELECT organization_id AS org, COUNT(*) AS n FROM organizations_organizationmember
              WHERE deleted_at IS NULL GROUP BY organization_id) m ON m.org = o.id
  LEFT JOIN (SELECT h.active_organization_id AS org,
                    SUM(CASE WHEN h.is_active THEN 1 ELSE 0 END) AS n,
                    SUM(CASE WHEN h.is_active THEN 0 ELSE 1 END) AS inactive
               FROM htx_user h JOIN authtoken_token t ON t.user_id = h.id
              GROUP BY h.active_organization_id) k ON k.org = o.id
 ORDER BY o.id";

/// `sql` for a database from before 1.17, which has no settings table: every organization
/// reads as one without a row.
pub fn without_settings_table(sql: &str) -> String {
    const JOIN: &str = "LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id";
    assert!(sql.contains(JOIN), "the query joins the settings table as this expects");
    sql.replace(
        JOIN,
        "LEFT JOIN (SELECT NULL AS organization_id, NULL AS api_tokens_enabled, NULL AS legacy_api_tokens_enabled, \
         NULL AS api_token_ttl_days) s ON 1 = 0",
    )
}

/// The rows of a scope, with timestamps as UTC text. `{ids}` is replaced by each
/// backend's way of passing an id list as one parameter.
pub const SCOPE_ALL_SQL: &str = "\
SELECT o.id, o.title, s.organization_id, s.api_tokens_enabled, s.legacy_api_tokens_enabled,
       s.api_token_ttl_days, {created}, {updated}
  FROM organization o
  LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id
 ORDER BY o.id";

pub const SCOPE_IDS_SQL: &str = "\
SELECT j.id, o.title, s.organization_id, s.api_tokens_enabled, s.legacy_api_tokens_enabled,
       s.api_token_ttl_days, {created}, {updated}
  FROM {ids}
  LEFT JOIN organization o ON o.id = j.id
  LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = j.id
 ORDER BY j.id";

pub const LEGACY_OWNER_SQL: &str = "SELECT u.id, u.email, u.is_active, u.active_organization_id \
FROM authtoken_token t JOIN htx_user u ON u.id = t.user_id WHERE t.key = {key}";

pub const USER_BY_ID_SQL: &str = "SELECT id, email, is_active, active_organization_id FROM htx_user WHERE id = {id}";

pub const JTI_SQL: &str = "SELECT o.user_id, b.id IS NOT NULL FROM token_blacklist_outstandingtoken o \
LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = o.id WHERE o.jti = {jti}";

pub const LEGACY_KEY_OF_SQL: &str = "SELECT key FROM authtoken_token WHERE user_id = {id}";

pub const CREATORS_WITHOUT_KEY_SQL: &str = "SELECT o.id, u.email FROM organization o \
JOIN htx_user u ON u.id = o.created_by_id LEFT JOIN authtoken_token t ON t.user_id = u.id \
WHERE t.key IS NULL ORDER BY o.id";

/// `{now}` is each backend's current time, comparable with `expires_at`.
pub const LIVE_PATS_SQL: &str = "SELECT h.active_organization_id, COUNT(*) FROM token_blacklist_outstandingtoken ot \
JOIN htx_user h ON h.id = ot.user_id LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = ot.id \
WHERE b.id IS NULL AND ot.expires_at > {now} AND h.active_organization_id IS NOT NULL \
GROUP BY h.active_organization_id ORDER BY h.active_organization_id";

pub const PROJECT_SQL: &str = "SELECT p.id, p.title, p.organization_id, p.created_by_id, o.created_by_id \
FROM project p LEFT JOIN organization o ON o.id = p.organization_id WHERE p.id = {id}";

/// A project's ML backends as Label Studio stored them (never the basic-auth password).
/// Each text at most a few KiB, whatever is stored (a URL of 100 KB, a long error): the
/// host is at the start, and doctor shows no more.
pub const ML_BACKENDS_SQL: &str = "SELECT id, substr(url, 1, 2048), state, substr(error_message, 1, 1024), \
    substr(title, 1, 256) FROM ml_mlbackend WHERE project_id = {id} ORDER BY id";

/// How many of a project's tasks doctor reads the data URLs of: a bounded sample.
pub const TASK_SAMPLE: i64 = 1000;

/// The data of a project's first tasks, as JSON text.
pub const TASK_DATA_SQL: &str = "SELECT CAST(data AS TEXT) FROM task WHERE project_id = {id} ORDER BY id LIMIT 1000";

/// Every user's email, for "did you mean" when an email names nobody.
pub const USER_EMAILS_SQL: &str = "SELECT email FROM htx_user ORDER BY id";

pub const USER_SQL: &str = "SELECT id, active_organization_id FROM htx_user WHERE email = {email} \
UNION ALL SELECT id, active_organization_id FROM htx_user WHERE lower(email) = lower({email}) AND email <> {email}";

/// The column list of every INSERT into the settings table.
pub const INSERT_COLUMNS: &str = "INSERT INTO jwt_auth_jwtsettings (organization_id, api_tokens_enabled, \
    api_token_ttl_days, created_at, updated_at, legacy_api_tokens_enabled)";

/// What a multi-row upsert does when the row exists: every column takes the new value.
pub const UPSERT_SET: &str = "ON CONFLICT (organization_id) DO UPDATE SET \
    api_tokens_enabled = excluded.api_tokens_enabled, \
    api_token_ttl_days = excluded.api_token_ttl_days, \
    created_at = excluded.created_at, updated_at = excluded.updated_at, \
    legacy_api_tokens_enabled = excluded.legacy_api_tokens_enabled";

/// A column as `table.column`, for the columns of Label Studio's token settings (their
/// names are the settings table's alone); other names as they are.
pub fn qualified_column(name: &str) -> String {
    match name {
        "api_tokens_enabled" | "legacy_api_tokens_enabled" | "api_token_ttl_days" | "organization_id" => {
            format!("jwt_auth_jwtsettings.{name}")
        }
        other => other.to_string(),
    }
}

/// A value Label Studio never writes, found in `column` (NULL or text in a boolean):
/// exit 3, naming the column.
pub fn holds_what_label_studio_never_writes(column: &str, what: &str) -> anyhow::Error {
    unreadable(format!("{} holds {what} in a row, which Label Studio never writes there", qualified_column(column)))
}

/// A column every release since 1.17 has, missing (`s.name` or `name`, as the database
/// words it): exit 3, naming it.
pub fn column_missing(column: &str) -> anyhow::Error {
    let name = column.rsplit('.').next().unwrap_or(column);
    unreadable(format!("{} is missing (every Label Studio release since 1.17 has it)", qualified_column(name)))
}

fn unreadable(what: String) -> anyhow::Error {
    crate::exit::unreachable_error(format!(
        "the database is not as Label Studio writes it: {what}; lsauth does not guess what that means (repair the \
         table, or restore the database from a backup)"
    ))
}
