# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_lsauth_global_optspecs
    string join \n db= json v/verbose color= show-secrets lock-timeout= h/help V/version
end

function __fish_lsauth_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_lsauth_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_lsauth_using_subcommand
    set -l cmd (__fish_lsauth_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c lsauth -n "__fish_lsauth_needs_command" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_needs_command" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_needs_command" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_needs_command" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_needs_command" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_needs_command" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_needs_command" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_needs_command" -s V -l version -d 'Print version'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "doctor" -d 'Find every known cause of a failing token and name the exact fix (changes nothing)'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "orgs" -d 'Show each organization\'s token settings, as stored and as Label Studio applies them'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "enable-legacy" -d 'Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "disable-legacy" -d 'Turn legacy API tokens off for organizations'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "enable-pat" -d 'Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "disable-pat" -d 'Turn Personal Access Tokens off for organizations'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "token" -d 'Tell what a token is and why Label Studio accepts or rejects it'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "migrate-env" -d 'Move an integration\'s .env from a legacy token to a PAT (or username/password), verified'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "upgrade-check" -d 'Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "pin" -d 'Write explicit settings rows with today\'s values for organizations without one, so that no release\'s change of defaults reaches them'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "rollback" -d 'Undo a change from its backup (list backups, restore one, or the latest)'
complete -c lsauth -n "__fish_lsauth_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l env-file -d 'An integration\'s .env: its LABEL_STUDIO_URL and token are checked too' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l url -d 'Label Studio\'s base URL [default: the env file\'s or the environment\'s LABEL_STUDIO_URL; without one the API checks are skipped]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l ls-data-dir -d 'Label Studio\'s data directory, whose .env holds SECRET_KEY' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l project -d 'Follow the ML backend / export path of this project: project → organization → creators → their legacy tokens → the settings Label Studio consults' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l login -d 'Without a database: sign in through the web login as EMAIL to read the active organization\'s token settings from the API (api.jwt_settings); without it the configured token signs in when it can' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l timeout -d 'Seconds before an API request is given up' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l strict -d 'Warnings fail too (exit 1)'
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand orgs" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l org -d 'An organization id (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l user -d 'The active organization of this user, the one Label Studio consults for their token (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l url -d 'Label Studio\'s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l login -d 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l timeout -d 'Seconds before an API request is given up [default: 10]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l env-file -d 'With --via-api: an integration\'s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l all -d 'Every organization'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l via-api -d 'Change the settings through Label Studio\'s API (/api/jwt/settings) instead of the database: the signed-in user\'s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l token-stdin -d 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-legacy" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l org -d 'An organization id (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l user -d 'The active organization of this user, the one Label Studio consults for their token (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l url -d 'Label Studio\'s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l login -d 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l timeout -d 'Seconds before an API request is given up [default: 10]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l env-file -d 'With --via-api: an integration\'s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l all -d 'Every organization'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l via-api -d 'Change the settings through Label Studio\'s API (/api/jwt/settings) instead of the database: the signed-in user\'s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l token-stdin -d 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-legacy" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l org -d 'An organization id (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l user -d 'The active organization of this user, the one Label Studio consults for their token (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l url -d 'Label Studio\'s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l login -d 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l timeout -d 'Seconds before an API request is given up [default: 10]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l env-file -d 'With --via-api: an integration\'s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l all -d 'Every organization'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l via-api -d 'Change the settings through Label Studio\'s API (/api/jwt/settings) instead of the database: the signed-in user\'s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l token-stdin -d 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand enable-pat" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l org -d 'An organization id (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l user -d 'The active organization of this user, the one Label Studio consults for their token (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l url -d 'Label Studio\'s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l login -d 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l timeout -d 'Seconds before an API request is given up [default: 10]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l env-file -d 'With --via-api: an integration\'s .env; its LABEL_STUDIO_URL is the URL, its token signs in when neither --token-stdin nor --login is given, and is tested after the change (a legacy token after enable-legacy, a PAT after enable-pat)' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l all -d 'Every organization'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l via-api -d 'Change the settings through Label Studio\'s API (/api/jwt/settings) instead of the database: the signed-in user\'s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l token-stdin -d 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand disable-pat" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -f -a "inspect" -d 'What a token is, offline: kind, claims, expiry, signature, database facts'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -f -a "test" -d 'Test a token against the API the way clients use it, and name the cause of a 401'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and not __fish_seen_subcommand_from inspect test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l env-file -d 'Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l ls-data-dir -d 'Label Studio\'s data directory, whose .env holds SECRET_KEY [default: found like Label Studio does]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l token-stdin -d 'Read the token from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l env-file -d 'Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l url -d 'Label Studio\'s base URL, with any sub-path [default: the env file\'s or the environment\'s LABEL_STUDIO_URL / LABEL_STUDIO_HOST, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l timeout -d 'Seconds before a request is given up' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l all-from -d 'Test every token in FILE (one per line), concurrently, one row each' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l concurrency -d 'How many tokens to test at once with --all-from' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l client -d 'Which client this integration is: its row decides the verdict [default: auto: an ML backend when the .env\'s variables or the files beside it say so, else not known]' -r -f -a "auto\t'Tell from the .env and what stands beside it'
sdk\t'The SDK\'s LabelStudio client (refreshes a PAT)'
ml-backend\t'An ML backend from 2026-02-12 on (refreshes a PAT in LABEL_STUDIO_API_KEY only)'
ml-backend-before-fix\t'An ML backend before 2026-02-12, or the SDK\'s get_local_path with the raw key'
token-header\t'Authorization: Token (curl, the legacy SDK Client)'"
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l token-stdin -d 'Read the token from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'What a token is, offline: kind, claims, expiry, signature, database facts'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "test" -d 'Test a token against the API the way clients use it, and name the cause of a 401'
complete -c lsauth -n "__fish_lsauth_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l env-file -d 'The .env file to migrate' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l var -d 'The variable holding the token [default: the first of LABEL_STUDIO_API_KEY, LABEL_STUDIO_API_TOKEN, LABEL_STUDIO_ACCESS_TOKEN that is set]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l url -d 'Label Studio\'s base URL [default: LABEL_STUDIO_URL / LABEL_STUDIO_HOST of the file or the environment, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l to -d 'What to write instead of the legacy token' -r -f -a "pat\t'A Personal Access Token in the same variable'
password\t'LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD, for clients that sign in'"
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l login -d 'Sign in through the web login as EMAIL and mint the PAT there' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l client -d 'Which client reads this file [default: auto: an ML backend when the file sets LABEL_STUDIO_ML_BACKEND_V2, MODEL_DIR or an ML_BACKEND variable]' -r -f -a "auto\t'Tell from the file\'s variables'
ml-backend\t'A Label Studio ML backend (downloads task data with the key as it is)'
other\t'Anything else (the SDK\'s LabelStudio client, a script that refreshes PATs)'"
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l timeout -d 'Seconds before an API request is given up' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l pat-stdin -d 'Read a PAT you created from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l revoke-existing -d 'When the user already has a PAT (409), revoke it and mint a new one. Only done once lsauth knows a new PAT will work; the plan names the PATs it would revoke'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l enable-pat -d 'When PATs are off for the token owner\'s active organization, turn them on in the same run (a database change with its own backup and undo line)'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l allow-other-user -d 'Accept a new credential of another user than the old token\'s owner, or when the owner cannot be found (no working legacy token, no database)'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l pat-capable -d 'This client refreshes PATs itself (a recent ML backend that gets its access token through the SDK client): move it to a PAT even though it is an ML backend'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l drop-legacy -d 'Remove the legacy token instead of keeping it commented out with a dated note'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand migrate-env" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand completions" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -l to -d 'The release to upgrade to (1.17.0 to 1.23.2, or latest)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand upgrade-check" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l org -d 'An organization id (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l user -d 'The active organization of this user, the one Label Studio consults for their token (repeatable)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l all -d 'Every organization'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand pin" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l env-file -d 'Restore this .env file from a migrate-env backup instead of database rows' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l backup-dir -d 'Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]' -r -f -a "(__fish_complete_directories)"
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l url -d 'Label Studio\'s base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file or of the environment, else http://localhost:8080]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l login -d 'Sign in through the web login as EMAIL (works whatever the token settings); the password is asked on a terminal, or read with --password-stdin' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l timeout -d 'Seconds before an API request is given up [default: 10]' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l db -d 'The Label Studio database: a SQLite path, sqlite:///abs/path, or postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem [env: LSAUTH_DB; default: found from Label Studio\'s own environment]' -r -F
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l color -d 'When to use colour and symbols' -r -f -a "auto\t''
always\t''
never\t''"
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l lock-timeout -d 'Seconds to wait for a database lock held by Label Studio (0 to 3600)' -r
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l latest -d 'Restore the newest backup of this database'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l list -d 'List this database\'s backups'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l force -d 'Restore even rows that were changed since the backup was taken'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l revoke-minted -d 'With --env-file: revoke on the server the PAT the file holds and the restored one does not (the PAT migrate-env minted), once the file is restored'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -s y -l yes -d 'Apply without asking (required when there is no terminal)'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l dry-run -d 'Show the plan and change nothing, on disk or in the database'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l via-api -d 'Change the settings through Label Studio\'s API (/api/jwt/settings) instead of the database: the signed-in user\'s active organization changes. For installs where only a URL and a login are at hand (Docker, Kubernetes)'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l token-stdin -d 'Sign in with a token read from standard input: a PAT, or a legacy token that still works'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l password-stdin -d 'Read the --login password from standard input'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l json -d 'Print one JSON document on stdout instead of tables'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -s v -l verbose -d 'Say where things came from (database source, TLS) on stderr'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -l show-secrets -d 'Print tokens and passwords in full instead of masked'
complete -c lsauth -n "__fish_lsauth_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "doctor" -d 'Find every known cause of a failing token and name the exact fix (changes nothing)'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "orgs" -d 'Show each organization\'s token settings, as stored and as Label Studio applies them'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "enable-legacy" -d 'Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "disable-legacy" -d 'Turn legacy API tokens off for organizations'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "enable-pat" -d 'Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "disable-pat" -d 'Turn Personal Access Tokens off for organizations'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "token" -d 'Tell what a token is and why Label Studio accepts or rejects it'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "migrate-env" -d 'Move an integration\'s .env from a legacy token to a PAT (or username/password), verified'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "upgrade-check" -d 'Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "pin" -d 'Write explicit settings rows with today\'s values for organizations without one, so that no release\'s change of defaults reaches them'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "rollback" -d 'Undo a change from its backup (list backups, restore one, or the latest)'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and not __fish_seen_subcommand_from doctor orgs enable-legacy disable-legacy enable-pat disable-pat token migrate-env completions upgrade-check pin rollback help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "inspect" -d 'What a token is, offline: kind, claims, expiry, signature, database facts'
complete -c lsauth -n "__fish_lsauth_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "test" -d 'Test a token against the API the way clients use it, and name the cause of a 401'
