#!/usr/bin/env bash
# The README's two commands:
#   npm start  -> tools/stack.sh start : dependencies, infrastructure, setup, then every service
#   npm test   -> tools/stack.sh test  : dependencies, infrastructure, setup, then every test
#   npm run bench -- <name> -> tools/stack.sh bench <name> : the same setup, then bench/<name>.ts
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

step() { printf '\n==> %s\n' "$*"; }

install_dependencies() {
  # npm ci when the lockfile changed since the last install (or nothing is installed yet).
  if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    step "installing dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

prepare() {
  install_dependencies
  step "starting local infrastructure (tools/infra.sh up)"
  bash tools/infra.sh up
  step "database schemas, migrations and topics (tools/setup.ts)"
  node -r @swc-node/register tools/setup.ts
}

case "${1:-}" in
  start)
    prepare
    step "starting services"
    exec node -r @swc-node/register tools/run-services.ts
    ;;
  test)
    shift
    prepare
    step "static checks (types, lint, formatting, module boundaries)"
    npx tsc -p tsconfig.json --noEmit
    npm run --silent lint
    npx prettier --check . --log-level=warn
    step "unit and integration tests"
    # One test file at a time: integration tests share the local stack and the services' consumer groups.
    npx jest --ci --runInBand "$@"
    ;;
  bench)
    shift
    [[ $# -ge 1 ]] || { echo "usage: npm run bench -- <$(ls bench/*.ts | grep -v -- '-' | xargs -n1 basename | sed 's/\.ts$//' | paste -sd'|')>" >&2; exit 2; }
    prepare
    step "benchmark: $1"
    exec node -r @swc-node/register "bench/$1.ts" "${@:2}"
    ;;
  *)
    echo "usage: tools/stack.sh start|test|bench [args]" >&2
    exit 2
    ;;
esac
