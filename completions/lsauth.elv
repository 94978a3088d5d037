
use builtin;
use str;

set edit:completion:arg-completer[lsauth] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'lsauth'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'lsauth'= {
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand doctor 'Find every known cause of a failing token and name the exact fix (changes nothing)'
            cand orgs 'Show each organization''s token settings, as stored and as Label Studio applies them'
            cand enable-legacy 'Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)'
            cand disable-legacy 'Turn legacy API tokens off for organizations'
            cand enable-pat 'Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)'
            cand disable-pat 'Turn Personal Access Tokens off for organizations'
            cand token 'Tell what a token is and why Label Studio accepts or rejects it'
            cand migrate-env 'Move an integration''s .env from a legacy token to a PAT (or username/password), verified'
            cand completions 'Print the shell completion script for SHELL'
            cand upgrade-check 'Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)'
            cand pin 'Write explicit settings rows with today''s values for organizations without one, so that no release''s change of defaults reaches them'
            cand rollback 'Undo a change from its backup (list backups, restore one, or the latest)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'lsauth;doctor'= {
            cand --env-file 'An integration''s .env: its LABEL_STUDIO_URL and token are checked too'
            cand --url 'Label Studio''s base URL [default: the env file''s or the environment''s LABEL_STUDIO_URL; without one the API checks are skipped]'
            cand --ls-data-dir 'Label Studio''s data directory, whose .env holds SECRET_KEY'
            cand --project 'Follow the ML backend / export path of this project: project → organization → creators → their legacy tokens → the settings Label Studio consults'
            cand --login 'Without a database: sign in through the web login as EMAIL to read the active organization''s token settings from the API (api.jwt_settings); without it the configured token signs in when it can'
            cand --timeout 'Seconds before an API request is given up'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --strict 'Warnings fail too (exit 1)'
            cand --password-stdin 'Read the --login password from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;orgs'= {
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;enable-legacy'= {
            cand --org 'An organization id (repeatable)'
            cand --user 'The active organization of this user, the one Label Studio consults for their token (repeatable)'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --url 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]'
            cand --login 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin'
            cand --timeout 'Seconds before an API request is given up [default: 10]'
            cand --env-file 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --all 'Every organization'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --via-api 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
            cand --token-stdin 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
            cand --password-stdin 'Read the --login password from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;disable-legacy'= {
            cand --org 'An organization id (repeatable)'
            cand --user 'The active organization of this user, the one Label Studio consults for their token (repeatable)'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --url 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]'
            cand --login 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin'
            cand --timeout 'Seconds before an API request is given up [default: 10]'
            cand --env-file 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --all 'Every organization'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --via-api 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
            cand --token-stdin 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
            cand --password-stdin 'Read the --login password from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;enable-pat'= {
            cand --org 'An organization id (repeatable)'
            cand --user 'The active organization of this user, the one Label Studio consults for their token (repeatable)'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --url 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]'
            cand --login 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin'
            cand --timeout 'Seconds before an API request is given up [default: 10]'
            cand --env-file 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --all 'Every organization'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --via-api 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
            cand --token-stdin 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
            cand --password-stdin 'Read the --login password from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;disable-pat'= {
            cand --org 'An organization id (repeatable)'
            cand --user 'The active organization of this user, the one Label Studio consults for their token (repeatable)'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --url 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]'
            cand --login 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin'
            cand --timeout 'Seconds before an API request is given up [default: 10]'
            cand --env-file 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --all 'Every organization'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --via-api 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
            cand --token-stdin 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
            cand --password-stdin 'Read the --login password from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;token'= {
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
            cand inspect 'What a token is, offline: kind, claims, expiry, signature, database facts'
            cand test 'Test a token against the API the way clients use it, and name the cause of a 401'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'lsauth;token;inspect'= {
            cand --env-file 'Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file'
            cand --ls-data-dir 'Label Studio''s data directory, whose .env holds SECRET_KEY [default: found like Label Studio does]'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --token-stdin 'Read the token from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;token;test'= {
            cand --env-file 'Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file'
            cand --url 'Label Studio''s base URL, with any sub-path [default: the env file''s or the environment''s LABEL_STUDIO_URL / LABEL_STUDIO_HOST, else http://localhost:8080]'
            cand --timeout 'Seconds before a request is given up'
            cand --all-from 'Test every token in FILE (one per line), concurrently, one row each'
            cand --concurrency 'How many tokens to test at once with --all-from'
            cand --client 'Which client this integration is: its row decides the verdict [default: auto: an ML backend when the .env''s variables or the files beside it say so, else not known]'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --token-stdin 'Read the token from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'lsauth;token;help'= {
            cand inspect 'What a token is, offline: kind, claims, expiry, signature, database facts'
            cand test 'Test a token against the API the way clients use it, and name the cause of a 401'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'lsauth;token;help;inspect'= {
        }
        &'lsauth;token;help;test'= {
        }
        &'lsauth;token;help;help'= {
        }
        &'lsauth;migrate-env'= {
            cand --env-file 'The .env file to migrate'
            cand --var 'The variable holding the token [default: the first of LABEL_STUDIO_API_KEY, LABEL_STUDIO_API_TOKEN, LABEL_STUDIO_ACCESS_TOKEN that is set]'
            cand --url 'Label Studio''s base URL [default: LABEL_STUDIO_URL / LABEL_STUDIO_HOST of the file or the environment, else http://localhost:8080]'
            cand --to 'What to write instead of the legacy token'
            cand --login 'Sign in through the web login as EMAIL and mint the PAT there'
            cand --client 'Which client reads this file [default: auto: an ML backend when the file sets LABEL_STUDIO_ML_BACKEND_V2, MODEL_DIR or an ML_BACKEND variable]'
            cand --timeout 'Seconds before an API request is given up'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --pat-stdin 'Read a PAT you created from standard input'
            cand --password-stdin 'Read the --login password from standard input'
            cand --revoke-existing 'When the user already has a PAT (409), revoke it and mint a new one. Only done once lsauth knows a new PAT will work; the plan names the PATs it would revoke'
            cand --enable-pat 'When PATs are off for the token owner''s active organization, turn them on in the same run (a database change with its own backup and undo line)'
            cand --allow-other-user 'Accept a new credential of another user than the old token''s owner, or when the owner cannot be found (no working legacy token, no database)'
            cand --pat-capable 'This client refreshes PATs itself (a recent ML backend that gets its access token through the SDK client): move it to a PAT even though it is an ML backend'
            cand --drop-legacy 'Remove the legacy token instead of keeping it commented out with a dated note'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'lsauth;completions'= {
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;upgrade-check'= {
            cand --to 'The release to upgrade to (1.17.0 to 1.23.2, or latest)'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;pin'= {
            cand --org 'An organization id (repeatable)'
            cand --user 'The active organization of this user, the one Label Studio consults for their token (repeatable)'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --all 'Every organization'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;rollback'= {
            cand --env-file 'Restore this .env file from a migrate-env backup instead of database rows'
            cand --backup-dir 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]'
            cand --url 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]'
            cand --login 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin'
            cand --timeout 'Seconds before an API request is given up [default: 10]'
            cand --db 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]'
            cand --color 'When to use colour and symbols'
            cand --lock-timeout 'Seconds to wait for a database lock held by Label Studio (0 to 3600)'
            cand --latest 'Restore the newest backup of this database'
            cand --list 'List this database''s backups'
            cand --force 'Restore even rows that were changed since the backup was taken'
            cand --revoke-minted 'With --env-file: revoke on the server the PAT the file holds and the restored one does not (the PAT migrate-env minted), once the file is restored'
            cand -y 'Apply without asking (required when there is no terminal)'
            cand --yes 'Apply without asking (required when there is no terminal)'
            cand --dry-run 'Show the plan and change nothing, on disk or in the database'
            cand --via-api 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
            cand --token-stdin 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
            cand --password-stdin 'Read the --login password from standard input'
            cand --json 'Print one JSON document on stdout instead of tables'
            cand -v 'Say where things came from (database source, TLS) on stderr'
            cand --verbose 'Say where things came from (database source, TLS) on stderr'
            cand --show-secrets 'Print tokens and passwords in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'lsauth;help'= {
            cand doctor 'Find every known cause of a failing token and name the exact fix (changes nothing)'
            cand orgs 'Show each organization''s token settings, as stored and as Label Studio applies them'
            cand enable-legacy 'Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)'
            cand disable-legacy 'Turn legacy API tokens off for organizations'
            cand enable-pat 'Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)'
            cand disable-pat 'Turn Personal Access Tokens off for organizations'
            cand token 'Tell what a token is and why Label Studio accepts or rejects it'
            cand migrate-env 'Move an integration''s .env from a legacy token to a PAT (or username/password), verified'
            cand completions 'Print the shell completion script for SHELL'
            cand upgrade-check 'Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)'
            cand pin 'Write explicit settings rows with today''s values for organizations without one, so that no release''s change of defaults reaches them'
            cand rollback 'Undo a change from its backup (list backups, restore one, or the latest)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'lsauth;help;doctor'= {
        }
        &'lsauth;help;orgs'= {
        }
        &'lsauth;help;enable-legacy'= {
        }
        &'lsauth;help;disable-legacy'= {
        }
        &'lsauth;help;enable-pat'= {
        }
        &'lsauth;help;disable-pat'= {
        }
        &'lsauth;help;token'= {
            cand inspect 'What a token is, offline: kind, claims, expiry, signature, database facts'
            cand test 'Test a token against the API the way clients use it, and name the cause of a 401'
        }
        &'lsauth;help;token;inspect'= {
        }
        &'lsauth;help;token;test'= {
        }
        &'lsauth;help;migrate-env'= {
        }
        &'lsauth;help;completions'= {
        }
        &'lsauth;help;upgrade-check'= {
        }
        &'lsauth;help;pin'= {
        }
        &'lsauth;help;rollback'= {
        }
        &'lsauth;help;help'= {
        }
    ]
    $completions[$command]
}
