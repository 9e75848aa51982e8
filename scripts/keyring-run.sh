#!/bin/sh
# Run a command inside a private D-Bus session with an unlocked gnome-keyring, so OS-keychain code
# (keytar, @napi-rs/keyring, libsecret) works headless, e.g. in CI:
#   apt-get install -y --no-install-recommends gnome-keyring dbus-x11
#   dbus-run-session -- sh scripts/keyring-run.sh npm test
# KEYRING_HOME keeps the keyring between runs (default: a fresh temporary home).
export HOME="${KEYRING_HOME:-$(mktemp -d)}"
printf '%s' "${KEYRING_PASSWORD:-owlet-test}" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
exec "$@"
