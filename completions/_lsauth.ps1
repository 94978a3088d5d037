
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'lsauth' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'lsauth'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'lsauth' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Find every known cause of a failing token and name the exact fix (changes nothing)')
            [CompletionResult]::new('orgs', 'orgs', [CompletionResultType]::ParameterValue, 'Show each organization''s token settings, as stored and as Label Studio applies them')
            [CompletionResult]::new('enable-legacy', 'enable-legacy', [CompletionResultType]::ParameterValue, 'Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)')
            [CompletionResult]::new('disable-legacy', 'disable-legacy', [CompletionResultType]::ParameterValue, 'Turn legacy API tokens off for organizations')
            [CompletionResult]::new('enable-pat', 'enable-pat', [CompletionResultType]::ParameterValue, 'Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)')
            [CompletionResult]::new('disable-pat', 'disable-pat', [CompletionResultType]::ParameterValue, 'Turn Personal Access Tokens off for organizations')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Tell what a token is and why Label Studio accepts or rejects it')
            [CompletionResult]::new('migrate-env', 'migrate-env', [CompletionResultType]::ParameterValue, 'Move an integration''s .env from a legacy token to a PAT (or username/password), verified')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL')
            [CompletionResult]::new('upgrade-check', 'upgrade-check', [CompletionResultType]::ParameterValue, 'Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)')
            [CompletionResult]::new('pin', 'pin', [CompletionResultType]::ParameterValue, 'Write explicit settings rows with today''s values for organizations without one, so that no release''s change of defaults reaches them')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Undo a change from its backup (list backups, restore one, or the latest)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'lsauth;doctor' {
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'An integration''s .env: its LABEL_STUDIO_URL and token are checked too')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL [default: the env file''s or the environment''s LABEL_STUDIO_URL; without one the API checks are skipped]')
            [CompletionResult]::new('--ls-data-dir', '--ls-data-dir', [CompletionResultType]::ParameterName, 'Label Studio''s data directory, whose .env holds SECRET_KEY')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Follow the ML backend / export path of this project: project → organization → creators → their legacy tokens → the settings Label Studio consults')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Without a database: sign in through the web login as EMAIL to read the active organization''s token settings from the API (api.jwt_settings); without it the configured token signs in when it can')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Warnings fail too (exit 1)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;orgs' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;enable-legacy' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'An organization id (repeatable)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The active organization of this user, the one Label Studio consults for their token (repeatable)')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up [default: 10]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every organization')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Sign in with a token read from standard input: a PAT, or a legacy token that still works')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;disable-legacy' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'An organization id (repeatable)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The active organization of this user, the one Label Studio consults for their token (repeatable)')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up [default: 10]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every organization')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Sign in with a token read from standard input: a PAT, or a legacy token that still works')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;enable-pat' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'An organization id (repeatable)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The active organization of this user, the one Label Studio consults for their token (repeatable)')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up [default: 10]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every organization')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Sign in with a token read from standard input: a PAT, or a legacy token that still works')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;disable-pat' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'An organization id (repeatable)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The active organization of this user, the one Label Studio consults for their token (repeatable)')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up [default: 10]')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'With --via-api: an integration''s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every organization')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Sign in with a token read from standard input: a PAT, or a legacy token that still works')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;token' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'What a token is, offline: kind, claims, expiry, signature, database facts')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Test a token against the API the way clients use it, and name the cause of a 401')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'lsauth;token;inspect' {
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file')
            [CompletionResult]::new('--ls-data-dir', '--ls-data-dir', [CompletionResultType]::ParameterName, 'Label Studio''s data directory, whose .env holds SECRET_KEY [default: found like Label Studio does]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Read the token from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;token;test' {
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL, with any sub-path [default: the env file''s or the environment''s LABEL_STUDIO_URL / LABEL_STUDIO_HOST, else http://localhost:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before a request is given up')
            [CompletionResult]::new('--all-from', '--all-from', [CompletionResultType]::ParameterName, 'Test every token in FILE (one per line), concurrently, one row each')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many tokens to test at once with --all-from')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Which client this integration is: its row decides the verdict [default: auto: an ML backend when the .env''s variables or the files beside it say so, else not known]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Read the token from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'lsauth;token;help' {
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'What a token is, offline: kind, claims, expiry, signature, database facts')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Test a token against the API the way clients use it, and name the cause of a 401')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'lsauth;token;help;inspect' {
            break
        }
        'lsauth;token;help;test' {
            break
        }
        'lsauth;token;help;help' {
            break
        }
        'lsauth;migrate-env' {
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'The .env file to migrate')
            [CompletionResult]::new('--var', '--var', [CompletionResultType]::ParameterName, 'The variable holding the token [default: the first of LABEL_STUDIO_API_KEY, LABEL_STUDIO_API_TOKEN, LABEL_STUDIO_ACCESS_TOKEN that is set]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL [default: LABEL_STUDIO_URL / LABEL_STUDIO_HOST of the file or the environment, else http://localhost:8080]')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'What to write instead of the legacy token')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Sign in through the web login as EMAIL and mint the PAT there')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Which client reads this file [default: auto: an ML backend when the file sets LABEL_STUDIO_ML_BACKEND_V2, MODEL_DIR or an ML_BACKEND variable]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--pat-stdin', '--pat-stdin', [CompletionResultType]::ParameterName, 'Read a PAT you created from standard input')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--revoke-existing', '--revoke-existing', [CompletionResultType]::ParameterName, 'When the user already has a PAT (409), revoke it and mint a new one. Only done once lsauth knows a new PAT will work; the plan names the PATs it would revoke')
            [CompletionResult]::new('--enable-pat', '--enable-pat', [CompletionResultType]::ParameterName, 'When PATs are off for the token owner''s active organization, turn them on in the same run (a database change with its own backup and undo line)')
            [CompletionResult]::new('--allow-other-user', '--allow-other-user', [CompletionResultType]::ParameterName, 'Accept a new credential of another user than the old token''s owner, or when the owner cannot be found (no working legacy token, no database)')
            [CompletionResult]::new('--pat-capable', '--pat-capable', [CompletionResultType]::ParameterName, 'This client refreshes PATs itself (a recent ML backend that gets its access token through the SDK client): move it to a PAT even though it is an ML backend')
            [CompletionResult]::new('--drop-legacy', '--drop-legacy', [CompletionResultType]::ParameterName, 'Remove the legacy token instead of keeping it commented out with a dated note')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'lsauth;completions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;upgrade-check' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The release to upgrade to (1.17.0 to 1.23.2, or latest)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;pin' {
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'An organization id (repeatable)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The active organization of this user, the one Label Studio consults for their token (repeatable)')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every organization')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;rollback' {
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Restore this .env file from a migrate-env backup instead of database rows')
            [CompletionResult]::new('--backup-dir', '--backup-dir', [CompletionResultType]::ParameterName, 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Label Studio''s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before an API request is given up [default: 10]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio''s own environment]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and symbols')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database lock held by Label Studio (0 to 3600)')
            [CompletionResult]::new('--latest', '--latest', [CompletionResultType]::ParameterName, 'Restore the newest backup of this database')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List this database''s backups')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Restore even rows that were changed since the backup was taken')
            [CompletionResult]::new('--revoke-minted', '--revoke-minted', [CompletionResultType]::ParameterName, 'With --env-file: revoke on the server the PAT the file holds and the restored one does not (the PAT migrate-env minted), once the file is restored')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (required when there is no terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and change nothing, on disk or in the database')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Change the settings through Label Studio''s API (/api/jwt/settings) instead of the database: the signed-in user''s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Sign in with a token read from standard input: a PAT, or a legacy token that still works')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the --login password from standard input')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say where things came from (database source, TLS) on stderr')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print tokens and passwords in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'lsauth;help' {
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Find every known cause of a failing token and name the exact fix (changes nothing)')
            [CompletionResult]::new('orgs', 'orgs', [CompletionResultType]::ParameterValue, 'Show each organization''s token settings, as stored and as Label Studio applies them')
            [CompletionResult]::new('enable-legacy', 'enable-legacy', [CompletionResultType]::ParameterValue, 'Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)')
            [CompletionResult]::new('disable-legacy', 'disable-legacy', [CompletionResultType]::ParameterValue, 'Turn legacy API tokens off for organizations')
            [CompletionResult]::new('enable-pat', 'enable-pat', [CompletionResultType]::ParameterValue, 'Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)')
            [CompletionResult]::new('disable-pat', 'disable-pat', [CompletionResultType]::ParameterValue, 'Turn Personal Access Tokens off for organizations')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Tell what a token is and why Label Studio accepts or rejects it')
            [CompletionResult]::new('migrate-env', 'migrate-env', [CompletionResultType]::ParameterValue, 'Move an integration''s .env from a legacy token to a PAT (or username/password), verified')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL')
            [CompletionResult]::new('upgrade-check', 'upgrade-check', [CompletionResultType]::ParameterValue, 'Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)')
            [CompletionResult]::new('pin', 'pin', [CompletionResultType]::ParameterValue, 'Write explicit settings rows with today''s values for organizations without one, so that no release''s change of defaults reaches them')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Undo a change from its backup (list backups, restore one, or the latest)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'lsauth;help;doctor' {
            break
        }
        'lsauth;help;orgs' {
            break
        }
        'lsauth;help;enable-legacy' {
            break
        }
        'lsauth;help;disable-legacy' {
            break
        }
        'lsauth;help;enable-pat' {
            break
        }
        'lsauth;help;disable-pat' {
            break
        }
        'lsauth;help;token' {
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'What a token is, offline: kind, claims, expiry, signature, database facts')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Test a token against the API the way clients use it, and name the cause of a 401')
            break
        }
        'lsauth;help;token;inspect' {
            break
        }
        'lsauth;help;token;test' {
            break
        }
        'lsauth;help;migrate-env' {
            break
        }
        'lsauth;help;completions' {
            break
        }
        'lsauth;help;upgrade-check' {
            break
        }
        'lsauth;help;pin' {
            break
        }
        'lsauth;help;rollback' {
            break
        }
        'lsauth;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
