-- The demo database: a Label Studio 1.23.2 schema (schema/schema-1.23.2.sqlite.sql)
-- with the classic token problems. Rebuild with scripts/build-demo-db.sh.
--
-- org 1 "Acme Labeling": created by a fresh 1.22+ install: legacy tokens off. The admin
--       and the ML backend's service user hold legacy tokens that now get 401.
-- org 2 "Research (upgraded)": reached 1.22 without a settings row, so it silently got
--       the new defaults: legacy tokens off. Two users hold legacy tokens.
-- org 3 "Vendor QA": row written under 1.17-1.21 defaults: PATs off, legacy on.
-- org 4 "Healthy Team": legacy and PATs on; its creator's token works.
-- user 7 "no-token@acme.test" created org 5 "Exports" but has no legacy token row.
BEGIN;
INSERT INTO organization (id, title, created_at, updated_at, created_by_id, token, contact_info) VALUES
  (1, 'Acme Labeling', '2025-11-03 09:12:44.120000', '2025-11-03 09:12:44.120000', NULL, 'acme-invite', NULL),
  (2, 'Research (upgraded)', '2024-06-17 14:01:02.000000', '2024-06-17 14:01:02.000000', NULL, 'research-invite', NULL),
  (3, 'Vendor QA', '2025-04-02 08:30:00.000000', '2025-04-02 08:30:00.000000', NULL, 'vendor-invite', NULL),
  (4, 'Healthy Team', '2025-12-01 16:45:10.500000', '2025-12-01 16:45:10.500000', NULL, 'healthy-invite', NULL),
  (5, 'Exports', '2026-01-10 12:00:00.000000', '2026-01-10 12:00:00.000000', NULL, 'exports-invite', NULL);
INSERT INTO htx_user (id, password, last_login, is_superuser, username, email, first_name, last_name, is_staff,
  is_active, date_joined, last_activity, activity_at, phone, avatar, active_organization_id, allow_newsletters,
  custom_hotkeys) VALUES
  (1, '!', NULL, 1, 'admin@acme.test', 'admin@acme.test', 'Ada', 'Admin', 1, 1, '2025-11-03 09:12:44.000000', '2026-11-20 10:00:00.000000', '2026-11-20 10:00:00.000000', '', '', 1, NULL, NULL),
  (2, '!', NULL, 0, 'ml-backend@acme.test', 'ml-backend@acme.test', 'ML', 'Backend', 0, 1, '2025-11-04 10:00:00.000000', '2026-11-20 10:00:00.000000', '2026-11-20 10:00:00.000000', '', '', 1, NULL, NULL),
  (3, '!', NULL, 0, 'rita@research.test', 'rita@research.test', 'Rita', 'Researcher', 0, 1, '2024-06-17 14:01:00.000000', '2026-11-19 10:00:00.000000', '2026-11-19 10:00:00.000000', '', '', 2, NULL, NULL),
  (4, '!', NULL, 0, 'pipeline@research.test', 'pipeline@research.test', 'Nightly', 'Pipeline', 0, 1, '2024-07-01 08:00:00.000000', '2026-11-19 03:00:00.000000', '2026-11-19 03:00:00.000000', '', '', 2, NULL, NULL),
  (5, '!', NULL, 0, 'vera@vendor.test', 'vera@vendor.test', 'Vera', 'Vendor', 0, 1, '2025-04-02 08:30:00.000000', '2026-11-18 10:00:00.000000', '2026-11-18 10:00:00.000000', '', '', 3, NULL, NULL),
  (6, '!', NULL, 0, 'hal@healthy.test', 'hal@healthy.test', 'Hal', 'Healthy', 0, 1, '2025-12-01 16:45:00.000000', '2026-11-21 10:00:00.000000', '2026-11-21 10:00:00.000000', '', '', 4, NULL, NULL),
  (7, '!', NULL, 0, 'no-token@acme.test', 'no-token@acme.test', 'Nora', 'Notoken', 0, 1, '2026-01-10 12:00:00.000000', '2026-11-21 10:00:00.000000', '2026-11-21 10:00:00.000000', '', '', 5, NULL, NULL);
UPDATE organization SET created_by_id = 1 WHERE id = 1;
UPDATE organization SET created_by_id = 3 WHERE id = 2;
UPDATE organization SET created_by_id = 5 WHERE id = 3;
UPDATE organization SET created_by_id = 6 WHERE id = 4;
UPDATE organization SET created_by_id = 7 WHERE id = 5;
INSERT INTO organizations_organizationmember (created_at, updated_at, organization_id, user_id, deleted_at) VALUES
  ('2025-11-03 09:12:44.000000', '2025-11-03 09:12:44.000000', 1, 1, NULL),
  ('2025-11-04 10:00:00.000000', '2025-11-04 10:00:00.000000', 1, 2, NULL),
  ('2024-06-17 14:01:00.000000', '2024-06-17 14:01:00.000000', 2, 3, NULL),
  ('2024-07-01 08:00:00.000000', '2024-07-01 08:00:00.000000', 2, 4, NULL),
  ('2025-04-02 08:30:00.000000', '2025-04-02 08:30:00.000000', 3, 5, NULL),
  ('2025-12-01 16:45:00.000000', '2025-12-01 16:45:00.000000', 4, 6, NULL),
  ('2026-01-10 12:00:00.000000', '2026-01-10 12:00:00.000000', 5, 7, NULL),
  ('2025-05-01 12:00:00.000000', '2025-05-01 12:00:00.000000', 3, 1, '2025-09-01 12:00:00.000000');
-- Demo keys: obviously fake, 40 lowercase hex characters like real ones.
INSERT INTO authtoken_token (key, created, user_id) VALUES
  ('dead0000beef0000dead0000beef0000dead0001', '2025-11-03 09:12:44.000000', 1),
  ('dead0000beef0000dead0000beef0000dead0002', '2025-11-04 10:00:00.000000', 2),
  ('dead0000beef0000dead0000beef0000dead0003', '2024-06-17 14:01:00.000000', 3),
  ('dead0000beef0000dead0000beef0000dead0004', '2024-07-01 08:00:00.000000', 4),
  ('dead0000beef0000dead0000beef0000dead0005', '2025-04-02 08:30:00.000000', 5),
  ('dead0000beef0000dead0000beef0000dead0006', '2025-12-01 16:45:00.000000', 6);
INSERT INTO jwt_auth_jwtsettings (organization_id, api_tokens_enabled, api_token_ttl_days, created_at, updated_at,
  legacy_api_tokens_enabled) VALUES
  (1, 1, 73000, '2025-11-03 09:12:44.130000', '2025-11-03 09:12:44.130000', 0),
  (3, 0, 73000, '2025-04-02 08:30:00.100000', '2025-04-02 08:30:00.100000', 1),
  (4, 1, 73000, '2025-12-01 16:45:10.600000', '2026-02-01 09:00:00.000000', 1),
  (5, 1, 73000, '2026-01-10 12:00:00.100000', '2026-01-10 12:00:00.100000', 1);
COMMIT;
