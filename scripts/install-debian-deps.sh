#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to (real peers, not mocks).
# Idempotent: a package already present is not reinstalled, and `apt-get update`
# runs at most once, only when something is missing.
set -euo pipefail

# package -> a command it provides (what we check for)
declare -A PACKAGES=(
  [sip-tester]=sipp
  [kamailio]=kamailio
  [openssl]=openssl
  [dnsmasq-base]=dnsmasq
  # The media engine (src/media rtpengine engine). The daemon binary is /usr/bin/rtpengine on
  # Debian 12 (older packagings used /usr/sbin); the package does not start it where a
  # policy-rc.d forbids (CI): tests start a private one (test/support/rtpengine.ts).
  [rtpengine-daemon]=rtpengine
  [rtpengine-utils]=rtpengine-ctl
  # Real media peers of the e2e suite (test/support/baresip.ts, test/support/chromium-peer.ts):
  # baresip as a SIP phone, Debian's chromium driven by playwright-core (which never downloads a
  # browser) as a WebRTC endpoint. Tone files and recordings are written and read by our own code.
  [baresip-core]=baresip
  [chromium]=chromium
)

missing=()
for pkg in "${!PACKAGES[@]}"; do
  cmd="${PACKAGES[$pkg]}"
  # Daemons (kamailio, dnsmasq, sometimes rtpengine) live in /usr/sbin, which is not on a normal user's PATH.
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-debian-deps: all present (${!PACKAGES[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "install-debian-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
