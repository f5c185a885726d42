#!/usr/bin/env bash
# Idempotent set-up of everything the project needs on a fresh machine.
#   scripts/setup.sh            run-time needs: venv + deps, Kafka jars, Prometheus
#   scripts/setup.sh --test     also what the tests use: Chromium + driver, wrk, docker-compose, PostgreSQL
# Only the registries this project builds from are used: PyPI, Maven Central, Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' controlplane/stack/pom.xml)
CACHE=${ECOMCTL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecomctl}
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
want_test=0; [ "${1:-}" = "--test" ] && want_test=1

die() { echo "setup: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }

apt_install() {  # apt_install PKG... : installs the missing Debian packages (root only)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: ${missing[*]} (install them: sudo apt-get install -y ${missing[*]})"
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ ! -f /var/lib/ecomctl-apt-updated ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
    apt-get update -qq && mkdir -p /var/lib && touch /var/lib/ecomctl-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. Python: virtualenv and deps, reinstalled only when pyproject.toml changes.
need python3.11 "install Python 3.11"
[ -x .venv/bin/python ] || python3.11 -m venv .venv
stamp=.venv/.deps-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -U pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  rm -f .venv/.deps-*; touch "$stamp"
fi

# 2. Kafka broker jars through Maven, cached outside the repo.
need java "install Java 17 (Debian: apt-get install -y openjdk-17-jre-headless)"
need mvn "install Maven (Debian: apt-get install -y maven)"
if [ ! -f "$KAFKA_LIBS/.complete" ]; then
  echo "setup: resolving Apache Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f controlplane/stack/pom.xml dependency:copy-dependencies -DoutputDirectory="$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
fi

# 3. Prometheus server (and promtool) from Debian.
command -v prometheus >/dev/null 2>&1 || apt_install prometheus

# 4. Test-only tools.
if [ $want_test = 1 ]; then
  apt_install chromium chromium-driver wrk docker-compose postgresql
fi
echo "setup: ok (kafka $KAFKA_VERSION jars in $KAFKA_LIBS)"
