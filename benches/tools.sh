# Sourced by benches/compare.sh, benches/pair.sh and benches/latency.sh (which define `say`): installs what a bench needs
# when it is missing, and says so plainly when it cannot; sets up the folder and server of a bench run.

# apt_install PKG...: quietly, with one `apt-get update` retry; fails where there is no apt-get.
apt_install() {
    if command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null 2>&1; }
    else
        return 1
    fi
}

# find_hurl: sets HURL to a Hurl 8.0.1 binary (installing it when missing) and HAVE_HURL to 1, or
# HAVE_HURL to 0 with a loud line when it cannot.
find_hurl() {
    HURL=${HURL:-$(command -v hurl || echo "$HOME/.cargo/bin/hurl")}
    HAVE_HURL=1
    # The version is read whole: `| grep -q` under pipefail can SIGPIPE the writer and read as a mismatch.
    if [ ! -x "$HURL" ] || [[ "$("$HURL" --version 2>/dev/null || true)" != "hurl 8.0.1"* ]]; then
        say "Hurl 8.0.1 not found: installing it (apt-get install -y libclang-dev libcurl4-openssl-dev && cargo install hurl@8.0.1 --locked; about 2 min)"
        if apt_install libclang-dev libcurl4-openssl-dev && cargo install hurl@8.0.1 --locked >&2; then
            HURL="$HOME/.cargo/bin/hurl"
        else
            say "CANNOT INSTALL Hurl 8.0.1: the Hurl rows are left out"
            HAVE_HURL=0
        fi
    fi
}

# need_gnu_time: installs GNU time when missing (the peak RSS figures come from it), or stops the script.
need_gnu_time() {
    if [ ! -x /usr/bin/time ]; then
        say "installing GNU time (apt-get install -y time)"
        apt_install time || { say "cannot install GNU time: peak RSS is needed; giving up"; exit 2; }
    fi
}

# bench_workspace NAME BIN: a fresh folder $WORK (/tmp/NAME.XXXXXX), a random GWS_PASSWORD exported,
# and BIN's reference server started (start_server); on exit the server is stopped and $WORK removed.
bench_workspace() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    SERVER_PID=""
    trap bench_cleanup EXIT
    GWS_PASSWORD="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    export GWS_PASSWORD
    start_server "$2" "$WORK/server.log"
}

bench_cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}

# start_server BIN LOG: starts `BIN serve --no-csrf` on a free loopback port, logging to LOG; sets
# SERVER_PID, PORT and BASE, and waits (at most 5 s) until the port accepts connections. The caller's
# EXIT trap stops it.
start_server() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    BASE="http://127.0.0.1:$PORT"
    "$1" serve --addr "127.0.0.1:$PORT" --no-csrf >"$2" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
        sleep 0.05
    done
}
