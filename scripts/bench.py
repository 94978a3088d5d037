#!/usr/bin/env python3
"""Benchmark lsauth against the raw sqlite3/psql statements doing the same job.

Builds Label Studio databases (the real 1.23.2 schema) of N organizations and N users,
half of the organizations without a jwt_auth_jwtsettings row, on SQLite and on a
throwaway PostgreSQL cluster, and prints for each size the median wall time of lsauth
and of the raw baseline measured in the same run, their ratio, and lsauth's peak memory.

    scripts/bench.py [--sizes 1000,10000,100000] [--runs 5] [--only sqlite|postgres|project]

Targets (issues 3, 7 and 14): the change within 1.5x of raw SQL including the backup,
its rollback within 2x of the raw restore, reads within 2x, peak memory under 50 MB at
100,000 organizations. For the change and the rollback it also prints how long the write
lock was held (how long Label Studio's writers would wait): lsauth's from `-v`, the raw
statements' as the sum of their own timings (`.timer on` / `\timing on`). The raw restore
names the rows by id, as notes of the change would; the `% 2` rule of this synthetic data and,
for SQLite, the raw change with foreign keys on are measured too. Each run starts from a fresh
copy synced to disk. Needs a release
build (`cargo build --release`), sqlite3 and psql, and PostgreSQL server binaries.
"""
import argparse, glob, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LSAUTH = os.environ.get("LSAUTH_BIN") or os.path.join(ROOT, "target", "release", "lsauth")
TS = "2025-06-01 10:00:00.000000"

ORGS_SQL = """SELECT o.id, o.title, u.email, COALESCE(m.n, 0),
 s.organization_id IS NOT NULL, s.api_tokens_enabled, s.legacy_api_tokens_enabled, s.api_token_ttl_days, COALESCE(k.n, 0)
 FROM organization o LEFT JOIN htx_user u ON u.id = o.created_by_id
 LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id
 LEFT JOIN (SELECT organization_id AS org, COUNT(*) AS n FROM organizations_organizationmember
  WHERE deleted_at IS NULL GROUP BY organization_id) m ON m.org = o.id
 LEFT JOIN (SELECT h.active_organization_id AS org, COUNT(*) AS n FROM htx_user h JOIN authtoken_token t ON t.user_id = h.id
  GROUP BY h.active_organization_id) k ON k.org = o.id
 ORDER BY o.id"""

DOCTOR_EXTRA = """SELECT o.id, u.email FROM organization o JOIN htx_user u ON u.id = o.created_by_id
 LEFT JOIN authtoken_token t ON t.user_id = u.id WHERE t.key IS NULL ORDER BY o.id;
SELECT h.active_organization_id, COUNT(*) FROM token_blacklist_outstandingtoken ot JOIN htx_user h ON h.id = ot.user_id
 LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = ot.id
 WHERE b.id IS NULL AND ot.expires_at > {now} AND h.active_organization_id IS NOT NULL
 GROUP BY h.active_organization_id ORDER BY h.active_organization_id"""
DOCTOR_EXTRA_SQL_SQLITE = DOCTOR_EXTRA.format(now="'2026-01-01 00:00:00.000000'")
DOCTOR_EXTRA_SQL_PG = DOCTOR_EXTRA.format(now="now()")

def change_sql(true="1"):
    return f"""BEGIN;
UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = {true}, updated_at = '2026-01-01 00:00:00.000000'
 WHERE legacy_api_tokens_enabled <> {true};
INSERT INTO jwt_auth_jwtsettings (organization_id, api_tokens_enabled, api_token_ttl_days, created_at, updated_at,
 legacy_api_tokens_enabled)
 SELECT o.id, {true}, 73000, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', {true} FROM organization o
 WHERE NOT EXISTS (SELECT 1 FROM jwt_auth_jwtsettings s WHERE s.organization_id = o.id);
COMMIT;"""

def restore_sql(n, false="0", by_rule=False):
    """The raw undo of change_sql on the reset state, one transaction: the old value back on
    the rows that existed, the rows the change inserted deleted. As a person with notes of
    the change types it, the rows are named by id (the notes are all that tells them apart).
    `by_rule` names them by the layout of this synthetic data instead (existing rows have
    the even ids), which no real database offers: measured too, as the floor."""
    if by_rule:
        existed, inserted = "organization_id % 2 = 0", "organization_id % 2 = 1"
    else:
        ids = lambda start: ",".join(str(i) for i in range(start, n + 1, 2))
        existed, inserted = f"organization_id IN ({ids(2)})", f"organization_id IN ({ids(1)})"
    return f"""BEGIN;
UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = {false}, updated_at = '{TS}' WHERE {existed};
DELETE FROM jwt_auth_jwtsettings WHERE {inserted};
COMMIT;"""

def seed_sql(n, true, false, key):
    series = f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})"
    return f"""BEGIN;
{series} INSERT INTO organization (id, title, created_at, updated_at, created_by_id, token, contact_info)
 SELECT x, 'Organization ' || x, '{TS}', '{TS}', NULL, 'invite-' || x, NULL FROM c;
{series} INSERT INTO htx_user (id, password, last_login, is_superuser, username, email, first_name, last_name,
 is_staff, is_active, date_joined, last_activity, activity_at, phone, avatar, active_organization_id,
 allow_newsletters, custom_hotkeys)
 SELECT x, '!', NULL, {false}, 'user' || x, 'user' || x || '@example.test', '', '', {false}, {true}, '{TS}', '{TS}',
 '{TS}', '', '', x, NULL, NULL FROM c;
UPDATE organization SET created_by_id = id;
{series} INSERT INTO organizations_organizationmember (created_at, updated_at, organization_id, user_id, deleted_at)
 SELECT '{TS}', '{TS}', x, x, NULL FROM c;
{series} INSERT INTO authtoken_token (key, created, user_id)
 SELECT {key}, '{TS}', x FROM c;
COMMIT;"""

def reset_sql(n, true, false):
    series = f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})"
    return f"""BEGIN; DELETE FROM jwt_auth_jwtsettings;
{series} INSERT INTO jwt_auth_jwtsettings (organization_id, api_tokens_enabled, api_token_ttl_days, created_at,
 updated_at, legacy_api_tokens_enabled) SELECT x, {true}, 73000, '{TS}', '{TS}', {false} FROM c WHERE x % 2 = 0;
COMMIT;"""

def migrations_sql():
    lines = open(os.path.join(ROOT, "schema", "django-migrations-1.23.2.txt")).read().split("\n")
    return "".join(f"INSERT INTO django_migrations (app, name, applied) VALUES ('{a}', '{b}', '{TS}');\n"
                   for a, b in (l.split(" ", 1) for l in lines if l.strip()))

LAST_OUTPUT = {"out": "", "err": ""}

def timed(cmd, env=None, stdin=None, ok_codes=(0,), capture=False):
    """Wall time and peak RSS (KiB) of one run. With `capture`, its lock-time lines are kept
    in LAST_OUTPUT. Other output is never read: a 30 MB `orgs --json` read into this process
    would stay in its memory and count in the peak RSS of every child forked after it."""
    start = time.perf_counter()
    out = tempfile.TemporaryFile() if capture else subprocess.DEVNULL
    # stderr goes to a file: a pipe read only after the run would stall a run that writes
    # more than the pipe holds.
    err_file = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=out, stderr=err_file, env=env)
    if stdin:
        proc.stdin.write(stdin.encode()); proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err_file.seek(0)
    err = err_file.read().decode(errors="replace")
    if capture:
        out.seek(0)
        keep = lambda text: "\n".join(l for l in text.splitlines() if "lock held" in l or "Time" in l)
        LAST_OUTPUT["out"], LAST_OUTPUT["err"] = keep(out.read().decode(errors="replace")), keep(err)
    if os.waitstatus_to_exitcode(status) not in ok_codes:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss

def lock_ms():
    """The lock time the last run reported: lsauth's -v line, or the raw shell's timings."""
    text = LAST_OUTPUT["out"] + LAST_OUTPUT["err"]
    m = re.search(r"write lock held for ([\d.]+) ms", text)
    if m: return float(m.group(1))
    sqlite = [float(x) * 1000 for x in re.findall(r"Run Time: real ([\d.]+)", text)]
    if sqlite: return sum(sqlite)
    return sum(float(x) for x in re.findall(r"Time: ([\d.]+) ms", text))

def measure(runs, run, reset=None, locks=None):
    times, peak = [], 0
    for _ in range(runs):
        if reset:
            reset()
            # The copy just made is still being written out by the kernel: without a sync the
            # first fsync of the measured run would pay for it, a fixed cost that makes every
            # ratio look better than it is.
            os.sync()
        t, rss = run()
        times.append(t); peak = max(peak, rss)
        if locks is not None: locks.append(lock_ms())
    return statistics.median(times), peak

class Postgres:
    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        if not bins: sys.exit("no PostgreSQL server binaries (apt-get install postgresql)")
        self.bin = bins[-1]
        self.dir = tempfile.mkdtemp(prefix="lsauth-bench-pg-", dir="/tmp")
        os.chmod(self.dir, 0o777)
        self.port = 55000 + os.getpid() % 1000
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(self.as_pg + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(self.as_pg + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w",
                        "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"],
                       check=True, stdout=subprocess.DEVNULL)
    def url(self, db): return f"postgres://postgres@127.0.0.1:{self.port}/{db}?sslmode=disable"
    def psql(self, db, sql):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.url(db).split("?")[0]], input=sql.encode(),
                       check=True, stdout=subprocess.DEVNULL)
    def stop(self):
        subprocess.run(self.as_pg + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

def report(rows):
    print(f"{'backend':<10} {'orgs':>7} {'job':<22} {'lsauth s':>9} {'raw s':>8} {'ratio':>6} {'peak MB':>8}"
          f" {'lock ms':>8} {'raw lock':>8}")
    for r in rows:
        locks = f" {r[6]:>8.1f} {r[7]:>8.1f}" if len(r) > 6 else ""
        print(f"{r[0]:<10} {r[1]:>7} {r[2]:<22} {r[3]:>9.3f} {r[4]:>8.3f} {r[3] / r[4]:>6.2f} {r[5] / 1024:>8.1f}{locks}")
    sys.stdout.flush()

def change_and_rollback(rows, backend, n, runs, lsauth, raw, reset, env, true, false, backups):
    """The change and its rollback, lsauth against raw SQL, with the lock times."""
    ll, rl = [], []
    lt, lm = measure(runs, lambda: timed(lsauth + ["enable-legacy", "--all", "--yes"], env, capture=True), reset, ll)
    rt, _ = measure(runs, lambda: timed(raw, stdin=change_sql(true), capture=True), reset, rl)
    rows.append((backend, n, "enable-legacy --all", lt, rt, lm, statistics.median(ll), statistics.median(rl)))
    if backend == "sqlite":
        # The sqlite3 shell checks no foreign keys; lsauth does, as Django does. The same raw
        # statements with the checks on, for a comparison of the same work:
        fl = []
        ft, _ = measure(runs, lambda: timed(raw, stdin="PRAGMA foreign_keys = ON;\n" + change_sql(true), capture=True),
                        reset, fl)
        rows.append((backend, n, "  (raw with FKs on)", lt, ft, lm, statistics.median(ll), statistics.median(fl)))
    def changed_by_lsauth():
        reset(); shutil.rmtree(backups, ignore_errors=True)
        timed(lsauth + ["enable-legacy", "--all", "--yes"], env)
    def changed_raw():
        reset(); timed(raw, stdin=change_sql(true))
    ll, rl, fl = [], [], []
    lt, lm = measure(runs, lambda: timed(lsauth + ["rollback", "--latest", "--yes"], env, capture=True),
                     changed_by_lsauth, ll)
    rt, _ = measure(runs, lambda: timed(raw, stdin=restore_sql(n, false), capture=True), changed_raw, rl)
    ft, _ = measure(runs, lambda: timed(raw, stdin=restore_sql(n, false, by_rule=True), capture=True), changed_raw, fl)
    rows.append((backend, n, "rollback --latest", lt, rt, lm, statistics.median(ll), statistics.median(rl)))
    rows.append((backend, n, "  (raw by id % 2)", lt, ft, lm, statistics.median(ll), statistics.median(fl)))

def project_sql(tasks, task_bytes, backends, url_bytes):
    """One organization, user and project; `tasks` tasks whose data holds a file URL and
    `task_bytes` of text; `backends` ML backends with URLs of `url_bytes` (issue 36's
    measurements: 1,000 tasks of 2 MB, 2,000 backends of 100 KB)."""
    return f"""{seed_sql(1, "1", "0", "printf('%040d', x)")}
INSERT INTO project (id, title, organization_id, created_by_id, show_instruction, is_published, created_at,
 updated_at, show_skip_button, show_collab_predictions, overlap_cohort_percentage, show_overlap_first, result_count,
 is_draft, enable_empty_annotation, maximum_annotations, min_annotations_to_start_training, show_annotation_history,
 show_ground_truth_first, evaluate_predictions_automatically, reveal_preannotations_interactively,
 annotator_evaluation_enabled) VALUES (1, 'P', 1, 1, 0, 0, '{TS}', '{TS}', 1, 1, 100, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {tasks})
INSERT INTO task (id, data, created_at, updated_at, is_labeled, project_id, overlap, total_annotations,
 cancelled_annotations, total_predictions, comment_count, unresolved_comment_count)
 SELECT x, json_object('image', 'http://files' || (x % 7) || '.example:8080/data/upload/1/' || x || '.png',
  'text', printf('%.*c', {task_bytes}, 'x')), '{TS}', '{TS}', 0, 1, 1, 0, 0, 0, 0, 0 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {backends})
INSERT INTO ml_mlbackend (id, state, url, error_message, title, created_at, updated_at, project_id, is_interactive,
 timeout, auto_update, auth_method) SELECT x, 'ER', 'http://ml' || x || '.example:9090/' || printf('%.*c', {url_bytes}, 'p'),
 'Connection refused', 'backend ' || x, '{TS}', '{TS}', 1, 0, 100.0, 1, 'NONE' FROM n;
"""

def project_bench(work, runs, env):
    """doctor --project on a project of big tasks and many backends: peak memory, time and
    how much it prints (docs/performance.md, "doctor --project")."""
    ddl = open(os.path.join(ROOT, "schema", "schema-1.23.2.sqlite.sql")).read()
    db = os.path.join(work, "project.sqlite3")
    subprocess.run(["sqlite3", db], input=(ddl + migrations_sql() + project_sql(1000, 2_000_000, 2000, 100_000)).encode(),
                   check=True)
    cmd = [LSAUTH, "--db", db, "doctor", "--project", "1", "--url", "http://127.0.0.1:9", "--json"]
    times, peak = [], 0
    for _ in range(runs):
        t, rss = timed(cmd, env, ok_codes=(0, 1, 3))
        times.append(t); peak = max(peak, rss)
    out = subprocess.run(cmd, env=env, capture_output=True).stdout
    human = subprocess.run(cmd[:-1], env=env, capture_output=True).stdout
    print(f"doctor --project (1,000 tasks of 2 MB, 2,000 ML backends of 100 KB URLs, database "
          f"{os.path.getsize(db) >> 20} MiB): median {statistics.median(times):.2f} s, peak {peak / 1024:.1f} MB, "
          f"--json prints {len(out) / 1024:.1f} KiB, the human report {len(human) / 1024:.1f} KiB")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=["sqlite", "postgres", "project"])
    a = ap.parse_args()
    if not os.path.exists(LSAUTH): sys.exit("build first: cargo build --release")
    sizes = [int(s) for s in a.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="lsauth-bench-")
    env = dict(os.environ, LSAUTH_BACKUP_DIR=os.path.join(work, "backups"), NO_COLOR="1")
    rows = []
    try:
        if a.only in (None, "project"):
            project_bench(work, a.runs, env)
        if a.only in (None, "sqlite"):
            ddl = open(os.path.join(ROOT, "schema", "schema-1.23.2.sqlite.sql")).read()
            for n in sizes:
                pristine = os.path.join(work, f"pristine-{n}.sqlite3")
                db = os.path.join(work, f"bench-{n}.sqlite3")
                subprocess.run(["sqlite3", pristine], input=(ddl + migrations_sql() + seed_sql(n, "1", "0", "printf('%040d', x)")
                               + reset_sql(n, "1", "0")).encode(), check=True)
                reset = lambda: shutil.copyfile(pristine, db)
                reset()
                lt, lm = measure(a.runs, lambda: timed([LSAUTH, "--db", db, "orgs", "--json"], env))
                rt, _ = measure(a.runs, lambda: timed(["sqlite3", db, ORGS_SQL]))
                rows.append(("sqlite", n, "orgs --json", lt, rt, lm))
                # doctor's database part: the org query plus the creator and live-PAT queries.
                lt, lm = measure(a.runs, lambda: timed([LSAUTH, "--db", db, "doctor", "--json"], env, ok_codes=(0, 1)))
                rt, _ = measure(a.runs, lambda: timed(["sqlite3", db, ORGS_SQL + ";" + DOCTOR_EXTRA_SQL_SQLITE]))
                rows.append(("sqlite", n, "doctor --json (db)", lt, rt, lm))
                change_and_rollback(rows, "sqlite", n, a.runs, [LSAUTH, "-v", "--db", db],
                                    ["sqlite3", "-cmd", ".timer on", db], reset, env, "1", "0", env["LSAUTH_BACKUP_DIR"])
                report(rows[-6:])
        if a.only in (None, "postgres"):
            pg = Postgres()
            try:
                ddl = "".join(l + "\n" for l in open(os.path.join(ROOT, "schema", "schema-1.23.2.postgres.sql"))
                              .read().split("\n") if not l.startswith("\\"))
                for n in sizes:
                    name = f"bench_{n}"
                    pg.psql("postgres", f"SET client_min_messages = warning; DROP DATABASE IF EXISTS {name};")
                    pg.psql("postgres", f"CREATE DATABASE {name};")
                    pg.psql(name, ddl + "SELECT pg_catalog.set_config('search_path', 'public', false);\n"
                            + migrations_sql() + seed_sql(n, "TRUE", "FALSE", "lpad(x::text, 40, '0')"))
                    reset = lambda: pg.psql(name, reset_sql(n, "TRUE", "FALSE") + "VACUUM ANALYZE jwt_auth_jwtsettings;")
                    reset()
                    url = pg.url(name)
                    raw = ["psql", "-q", url.split("?")[0]]
                    lt, lm = measure(a.runs, lambda: timed([LSAUTH, "--db", url, "orgs", "--json"], env))
                    rt, _ = measure(a.runs, lambda: timed(raw + ["-At", "-c", ORGS_SQL]))
                    rows.append(("postgres", n, "orgs --json", lt, rt, lm))
                    lt, lm = measure(a.runs, lambda: timed([LSAUTH, "--db", url, "doctor", "--json"], env, ok_codes=(0, 1)))
                    rt, _ = measure(a.runs, lambda: timed(raw + ["-At", "-c", ORGS_SQL + ";" + DOCTOR_EXTRA_SQL_PG]))
                    rows.append(("postgres", n, "doctor --json (db)", lt, rt, lm))
                    change_and_rollback(rows, "postgres", n, a.runs, [LSAUTH, "-v", "--db", url],
                                        raw + ["-c", "\\timing on", "-f", "-"], reset, env, "TRUE", "FALSE",
                                        env["LSAUTH_BACKUP_DIR"])
                    report(rows[-5:])
            finally:
                pg.stop()
        print("\nSummary (median of %d runs each; ratio = lsauth / raw SQL in the same run):" % a.runs)
        report(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
