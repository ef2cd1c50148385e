#!/usr/bin/env bash
# Veil's local infrastructure: Apache Kafka (KRaft), PostgreSQL and the AWS KMS API (local-kms),
# as plain processes on 127.0.0.1. No Docker engine needed.
#
#   tools/infra.sh up|down|status|reset|logs [component]
#   tools/infra.sh kafka consumer-groups|topics|console-consumer|console-producer [tool arguments]
#
# State, binaries and logs live in $VEIL_HOME (default: <repo>/.veil, git-ignored).
# When KAFKA_BROKERS, DATABASE_URL or KMS_ENDPOINT is set, that component is external and
# is neither started nor stopped here. `up` writes the effective settings to $VEIL_HOME/env.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VEIL_HOME="${VEIL_HOME:-$REPO_ROOT/.veil}"
KAFKA_PORT="${VEIL_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${VEIL_KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${VEIL_PG_PORT:-5432}"
KMS_PORT="${VEIL_KMS_PORT:-4599}"
PG_ADMIN_PASSWORD="${VEIL_PG_ADMIN_PASSWORD:-veil-local-admin}"
KMS_REGION="${AWS_REGION:-eu-west-2}"
READY_TIMEOUT_S="${VEIL_READY_TIMEOUT_S:-60}"
# Shared across state folders so a second stack (tests of this script) does not download again.
VEIL_CACHE="${VEIL_CACHE:-$REPO_ROOT/.veil-cache}"
LOCAL_KMS_BIN="$VEIL_CACHE/bin/local-kms"
KAFKA_LIBS="$VEIL_CACHE/kafka-libs"

LOGS="$VEIL_HOME/logs"
RUN="$VEIL_HOME/run"

say() { printf 'infra: %s\n' "$*"; }
fail() {
  printf 'infra: error: %s\n' "$*" >&2
  exit 1
}

# A component is external when its variable is set to something other than what `up` writes for
# the local one (so a shell that sourced $VEIL_HOME/env still manages the local stack).
local_database_url() { echo "postgres://postgres:$PG_ADMIN_PASSWORD@127.0.0.1:$PG_PORT/veil"; }
external_kafka() { [[ -n "${KAFKA_BROKERS:-}" && "$KAFKA_BROKERS" != "127.0.0.1:$KAFKA_PORT" ]]; }
external_pg() { [[ -n "${DATABASE_URL:-}" && "$DATABASE_URL" != "$(local_database_url)" ]]; }
external_kms() { [[ -n "${KMS_ENDPOINT:-}" && "$KMS_ENDPOINT" != "http://127.0.0.1:$KMS_PORT" ]]; }

# Set but empty is neither: the empty value would win over $VEIL_HOME/env in the services (for
# KMS_ENDPOINT: real AWS KMS called with the local stack's dummy credentials). Refuse it.
for variable in KAFKA_BROKERS DATABASE_URL KMS_ENDPOINT; do
  if [[ -n "${!variable+set}" && -z "${!variable}" ]]; then
    fail "$variable is set but empty: unset it for the local component, or set it to the external one"
  fi
done

# ---------------------------------------------------------------- prerequisites

require_java() {
  command -v java >/dev/null || fail "Java 17 not found: install a JDK 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
  local version major
  version="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  major="${version%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]] || fail "Java 17 not found (java is version $version): Kafka 4 needs Java 17 or newer"
}

require_maven() {
  command -v mvn >/dev/null || fail "Maven not found: it fetches the Kafka jars from Maven Central (Debian: apt-get install maven)"
}

require_go() {
  command -v go >/dev/null || fail "Go not found: it builds local-kms from the Go module proxy (https://go.dev/doc/install, Go 1.22 or newer)"
}

pg_bin_dir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/pg_ctl" ]] && echo "$dir"
  done | sort -V | tail -1
}

require_postgres() {
  if [[ -z "$(pg_bin_dir)" ]]; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
      say "PostgreSQL server not found; installing it from Debian's packages"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >"$LOGS/apt-postgresql.log" 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOGS/apt-postgresql.log" 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >>"$LOGS/apt-postgresql.log" 2>&1; } ||
        fail "installing PostgreSQL failed, see $LOGS/apt-postgresql.log"
    else
      fail "PostgreSQL server not found: install it (Debian: sudo apt-get install postgresql) or set DATABASE_URL"
    fi
  fi
}

# Fails when something other than our own process listens on the port.
require_port_free() {
  local port="$1" what="$2" pid
  if ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then
    pid="$(ss -ltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
    fail "port $port (needed by $what) is in use by pid ${pid:-unknown}${pid:+ ($(ps -o comm= -p "$pid" 2>/dev/null))}; stop it or set the VEIL_*_PORT variables"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when the pidfile names a live process that is still ours: after a crash or reboot the pid
# may belong to an unrelated process, which must be neither trusted nor killed.
pid_alive() {
  local file="$1" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  kill -0 "$pid" 2>/dev/null || return 1
  case "$file" in
    *kafka.pid) grep -qa 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null ;;
    *kms.pid) grep -qa 'local-kms' "/proc/$pid/cmdline" 2>/dev/null ;;
    *) return 0 ;;
  esac
}

# During startup the pid is the one just forked: it may not have exec'd yet (its cmdline is still
# this script's), so only a vanished process means the start failed.
pid_running() { kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

wait_until() {
  local what="$1" log="$2" check="$3" waited=0
  until eval "$check"; do
    if ((waited >= READY_TIMEOUT_S * 10)); then
      fail "$what did not become ready in ${READY_TIMEOUT_S} s, see $log"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# When we run as root, PostgreSQL (which refuses root) runs as the postgres user.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# ---------------------------------------------------------------- PostgreSQL

PG_DATA="$VEIL_HOME/postgres"
PG_LOG="$LOGS/postgres.log"
# When the postgres user cannot reach $VEIL_HOME (a clone in root's home, or under any folder of
# mode 700), the server's files live in a folder of their own under /var/lib/veil, named here.
PG_ELSEWHERE="$VEIL_HOME/postgres-elsewhere"
if [[ -f "$PG_ELSEWHERE" ]]; then
  PG_DATA="$(cat "$PG_ELSEWHERE")/data"
  PG_LOG="$(cat "$PG_ELSEWHERE")/postgres.log"
fi

pg_running() { [[ -f "$PG_DATA/postmaster.pid" ]] && as_pg "$(pg_bin_dir)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_up() {
  require_postgres
  local bin
  bin="$(pg_bin_dir)"
  if pg_running; then
    say "postgres already running on 127.0.0.1:$PG_PORT"
    return
  fi
  require_port_free "$PG_PORT" PostgreSQL
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    mkdir -p "$PG_DATA"
    local pwfile="$RUN/pg-admin-password"
    if [[ $EUID -eq 0 ]]; then
      # The server runs as the postgres user: it owns its data folder and must reach it.
      chown postgres "$PG_DATA" "$LOGS" && chmod 700 "$PG_DATA"
      chmod a+x "$VEIL_HOME" "$RUN"
      if ! as_pg test -w "$PG_DATA"; then
        local place
        place="/var/lib/veil/$(printf '%s' "$VEIL_HOME" | sha256sum | cut -c1-16)"
        rmdir "$PG_DATA"
        # Anything there belonged to an earlier state folder at this path, since deleted (it named it).
        rm -rf "$place"
        mkdir -p "$place/data"
        chown -R postgres "$place" && chmod 700 "$place/data"
        as_pg test -w "$place/data" || fail "the postgres user can reach neither $VEIL_HOME nor $place"
        printf '%s\n' "$place" >"$PG_ELSEWHERE"
        PG_DATA="$place/data"
        PG_LOG="$place/postgres.log"
        pwfile="$place/pg-admin-password"
        say "postgres keeps its data in $place (the postgres user cannot reach $VEIL_HOME)"
      fi
    fi
    printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile"
    [[ $EUID -eq 0 ]] && chown postgres "$pwfile"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 \
      --locale=C.UTF-8 >"$LOGS/postgres-initdb.log" 2>&1 || fail "initdb failed, see $LOGS/postgres-initdb.log"
    rm -f "$pwfile"
  fi
  touch "$PG_LOG"
  [[ $EUID -eq 0 ]] && chown postgres "$PG_LOG"
  # Loopback only, no unix socket; settings sized for a 2-core development machine.
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$READY_TIMEOUT_S" start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c max_connections=300 -c shared_buffers=256MB -c max_wal_size=2GB" \
    >/dev/null 2>&1 || fail "PostgreSQL did not become ready in ${READY_TIMEOUT_S} s, see $PG_LOG"
  say "postgres up on 127.0.0.1:$PG_PORT"
}

pg_down() {
  if pg_running; then
    as_pg "$(pg_bin_dir)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
    say "postgres stopped"
  fi
}

# ---------------------------------------------------------------- Kafka

KAFKA_DIR="$VEIL_HOME/kafka"
KAFKA_LOG_DIR="$LOGS/kafka"
KAFKA_PID="$RUN/kafka.pid"
KAFKA_POM="$REPO_ROOT/deploy/kafka/pom.xml"

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -1; }

# Fetched again when the pom changed or a jar it names is missing (a cache from before the tools).
kafka_fetched() {
  local version
  version="$(kafka_version)"
  [[ -f "$KAFKA_LIBS/.complete" && ! "$KAFKA_POM" -nt "$KAFKA_LIBS/.complete" &&
    -f "$KAFKA_LIBS/kafka_2.13-$version.jar" && -f "$KAFKA_LIBS/kafka-tools-$version.jar" ]]
}

kafka_fetch() {
  kafka_fetched && return
  require_maven
  say "fetching Kafka jars from Maven Central (deploy/kafka/pom.xml)"
  local staging="$KAFKA_LIBS.fetch.$$" old="$KAFKA_LIBS.old.$$"
  rm -rf "$staging"
  mkdir -p "$staging" "$LOGS"
  mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies \
    -DoutputDirectory="$staging" >"$LOGS/kafka-fetch.log" 2>&1 ||
    { rm -rf "$staging"; fail "fetching the Kafka jars failed, see $LOGS/kafka-fetch.log"; }
  touch "$staging/.complete"
  # Swapped in whole: a broker already running keeps finding the jars it was started with.
  [[ -d "$KAFKA_LIBS" ]] && mv "$KAFKA_LIBS" "$old"
  mv "$staging" "$KAFKA_LIBS"
  rm -rf "$old"
}

kafka_java() {
  JAVA_CMD=(java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$REPO_ROOT/deploy/kafka/log4j2.yaml" -Dkafka.logs.dir="$KAFKA_LOG_DIR"
    -cp "$KAFKA_LIBS/*")
}

# Kafka principals: the administrator (setup, tests, operators), one per service, and the upstream
# systems that publish inquiries. Each gets its own SCRAM password; tools/setup.ts grants each only
# what the topic contracts say it produces and consumes.
KAFKA_PRINCIPALS=(admin veil-api veil-ingest veil-vault veil-retention veil-dsar veil-audit-log veil-upstream veil-witness)
KAFKA_TLS="$KAFKA_DIR/tls"
KAFKA_CREDENTIALS="$KAFKA_DIR/credentials"

# A local certificate authority and the broker's certificate (for 127.0.0.1 and localhost).
kafka_tls() {
  [[ -f "$KAFKA_TLS/broker-keystore.pem" && -f "$KAFKA_TLS/ca.pem" ]] && return
  command -v openssl >/dev/null || fail "openssl not found: it makes the local Kafka's certificates (Debian: apt-get install openssl)"
  mkdir -p "$KAFKA_TLS"
  chmod 700 "$KAFKA_TLS"
  (
    cd "$KAFKA_TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=Veil local Kafka CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=veil-kafka-broker" -keyout broker.key -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
      -extfile broker.ext -out broker.pem
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker-pkcs8.key
    cat broker-pkcs8.key broker.pem ca.pem >broker-keystore.pem
    rm -f broker.csr broker.ext broker.key broker-pkcs8.key ca.srl
    chmod 600 ca.key broker-keystore.pem
  ) >"$LOGS/kafka-tls.log" 2>&1 || fail "making the Kafka certificates failed, see $LOGS/kafka-tls.log"
}

# One random password per principal, made once and kept (chmod 600) beside the broker's data.
kafka_credentials() {
  local name
  touch "$KAFKA_CREDENTIALS"
  chmod 600 "$KAFKA_CREDENTIALS"
  for name in "${KAFKA_PRINCIPALS[@]}"; do
    grep -q "^$name=" "$KAFKA_CREDENTIALS" || printf '%s=%s\n' "$name" "$(openssl rand -hex 24)" >>"$KAFKA_CREDENTIALS"
  done
}

kafka_password() { grep "^$1=" "$KAFKA_CREDENTIALS" | head -1 | cut -d= -f2-; }

kafka_up() {
  require_java
  kafka_fetch
  if pid_alive "$KAFKA_PID"; then
    say "kafka already running on 127.0.0.1:$KAFKA_PORT (SASL_SSL)"
    return
  fi
  require_port_free "$KAFKA_PORT" Kafka
  require_port_free "$KAFKA_CONTROLLER_PORT" "the Kafka controller"
  # A broker formatted before it was secured has no SCRAM credentials: its local data is reset.
  if [[ -f "$KAFKA_DIR/data/meta.properties" && ! -f "$KAFKA_DIR/.secured" ]]; then
    say "securing the local broker (TLS, SASL/SCRAM, ACLs): its existing topics are reset"
    rm -rf "$KAFKA_DIR"
  fi
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_LOG_DIR"
  kafka_tls
  kafka_credentials
  # The broker talks to its own controller over mutual TLS; clients and the broker itself over
  # SASL_SSL with SCRAM-SHA-512. No listener accepts anyone without a credential.
  cat >"$KAFKA_DIR/server.properties" <<EOF
# generated by tools/infra.sh: one combined broker+controller in KRaft mode, loopback only
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(kafka_password admin)";
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_TLS/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_TLS/ca.pem
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:CN=veil-kafka-broker
allow.everyone.if.no.acl.found=false
log.dirs=$KAFKA_DIR/data
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=8388608
EOF
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cluster_id
    kafka_java
    cluster_id="$("${JAVA_CMD[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    local scram=() name
    for name in "${KAFKA_PRINCIPALS[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$(kafka_password "$name")]")
    done
    "${JAVA_CMD[@]}" kafka.tools.StorageTool format --ignore-formatted --cluster-id "$cluster_id" \
      --config "$KAFKA_DIR/server.properties" "${scram[@]}" >"$LOGS/kafka-format.log" 2>&1 ||
      fail "formatting Kafka storage failed, see $LOGS/kafka-format.log"
    touch "$KAFKA_DIR/.secured"
  fi
  : >"$KAFKA_LOG_DIR/kafka.log"
  kafka_java
  setsid nohup "${JAVA_CMD[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" >"$KAFKA_LOG_DIR/stdout.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  wait_until Kafka "$KAFKA_LOG_DIR/kafka.log" \
    "grep -q 'Kafka Server started' '$KAFKA_LOG_DIR/kafka.log' || { pid_running '$KAFKA_PID' || fail 'Kafka exited during startup, see $KAFKA_LOG_DIR/kafka.log and $KAFKA_LOG_DIR/stdout.log'; false; }"
  say "kafka up on 127.0.0.1:$KAFKA_PORT (SASL_SSL; CA $KAFKA_TLS/ca.pem)"
}

stop_pidfile() {
  local file="$1" what="$2" waited=0
  if pid_alive "$file"; then
    local pid
    pid="$(cat "$file")"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
      if ((waited >= 300)); then
        kill -KILL "$pid" 2>/dev/null || true
        say "$what did not stop in 30 s; killed"
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    say "$what stopped"
  fi
  rm -f "$file"
}

kafka_down() { stop_pidfile "$KAFKA_PID" kafka; }

# ---------------------------------------------------------------- Kafka's operator tools

# name -> main class and the option that takes the client properties file
kafka_tool() {
  case "$1" in
    consumer-groups) echo "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --command-config" ;;
    topics) echo "org.apache.kafka.tools.TopicCommand --command-config" ;;
    console-consumer) echo "org.apache.kafka.tools.consumer.ConsoleConsumer --consumer.config" ;;
    console-producer) echo "org.apache.kafka.tools.ConsoleProducer --producer.config" ;;
    *) return 1 ;;
  esac
}

# The Kafka the stack uses, as the tools read it: an external one (KAFKA_BROKERS in the environment)
# entirely from the environment; otherwise $VEIL_HOME/env, where the environment wins per variable.
KAFKA_CLIENT_VARIABLES=(KAFKA_BROKERS KAFKA_SECURITY_PROTOCOL KAFKA_SASL_MECHANISM KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD KAFKA_SSL_CA_FILE)
kafka_client_settings() {
  local line name
  if ! external_kafka && [[ -f "$VEIL_HOME/env" ]]; then
    while IFS= read -r line; do
      for name in "${KAFKA_CLIENT_VARIABLES[@]}"; do
        if [[ "$line" == "$name="* && -z "${!name+set}" ]]; then
          printf -v "$name" '%s' "${line#*=}"
        fi
      done
    done <"$VEIL_HOME/env"
  fi
  [[ -n "${KAFKA_BROKERS:-}" ]] || fail "no Kafka settings in $VEIL_HOME/env: run tools/infra.sh up first, or set KAFKA_BROKERS"
}

# A value for a Java properties file (a backslash escapes there).
prop() { printf '%s' "${1//\\/\\\\}"; }
# A value inside a double-quoted JAAS option.
jaas_quote() {
  local value="${1//\\/\\\\}"
  printf '"%s"' "${value//\"/\\\"}"
}

# Client properties as the services connect: KAFKA_SECURITY_PROTOCOL (unset: plaintext, as for
# Veil's other tools), KAFKA_SASL_*, and KAFKA_SSL_CA_FILE (unset: the JVM's CAs).
kafka_client_properties() {
  local protocol mechanism
  protocol="$(echo "${KAFKA_SECURITY_PROTOCOL:-plaintext}" | tr 'a-z' 'A-Z')"
  case "$protocol" in
    PLAINTEXT) return ;;
    SSL) ;;
    SASL_SSL)
      mechanism="$(echo "${KAFKA_SASL_MECHANISM:-scram-sha-512}" | tr 'a-z' 'A-Z')"
      [[ "$mechanism" == SCRAM-SHA-256 || "$mechanism" == SCRAM-SHA-512 ]] ||
        fail "KAFKA_SASL_MECHANISM=$KAFKA_SASL_MECHANISM: scram-sha-256 or scram-sha-512"
      [[ -n "${KAFKA_SASL_USERNAME:-}" && -n "${KAFKA_SASL_PASSWORD:-}" ]] ||
        fail "KAFKA_SECURITY_PROTOCOL=sasl_ssl needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
      printf 'sasl.mechanism=%s\n' "$mechanism"
      printf 'sasl.jaas.config=%s\n' "$(prop "org.apache.kafka.common.security.scram.ScramLoginModule required username=$(jaas_quote "$KAFKA_SASL_USERNAME") password=$(jaas_quote "$KAFKA_SASL_PASSWORD");")"
      ;;
    *) fail "KAFKA_SECURITY_PROTOCOL=$KAFKA_SECURITY_PROTOCOL: plaintext, ssl or sasl_ssl" ;;
  esac
  printf 'security.protocol=%s\n' "$protocol"
  if [[ -n "${KAFKA_SSL_CA_FILE:-}" ]]; then
    [[ -r "$KAFKA_SSL_CA_FILE" ]] || fail "KAFKA_SSL_CA_FILE=$KAFKA_SSL_CA_FILE cannot be read"
    printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$(prop "$KAFKA_SSL_CA_FILE")"
  fi
}

KAFKA_TOOL_DIR=""
remove_kafka_tool_dir() { [[ -z "$KAFKA_TOOL_DIR" ]] || rm -rf "$KAFKA_TOOL_DIR"; }

# Runs one of Kafka's tools against the stack's Kafka as its admin principal (or whoever
# KAFKA_SASL_USERNAME names), with the password in a private file removed on exit.
cmd_kafka() {
  local tool="${1:-}" spec class config_option arg bootstrap=(--bootstrap-server "")
  spec="$(kafka_tool "$tool")" || {
    usage >&2
    exit 2
  }
  shift
  read -r class config_option <<<"$spec"
  require_java
  kafka_fetch >&2
  kafka_client_settings
  bootstrap[1]="$KAFKA_BROKERS"
  for arg in "$@"; do
    [[ "$arg" == --bootstrap-server || "$arg" == --bootstrap-server=* ]] && bootstrap=()
  done
  trap remove_kafka_tool_dir EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  KAFKA_TOOL_DIR="$(mktemp -d)"
  (umask 077 && kafka_client_properties >"$KAFKA_TOOL_DIR/client.properties")
  chmod 600 "$KAFKA_TOOL_DIR/client.properties"
  java -Xmx256m -Djava.awt.headless=true -Dlog4j2.configurationFile="$REPO_ROOT/deploy/kafka/tools-log4j2.yaml" \
    -cp "$KAFKA_LIBS/*" "$class" "${bootstrap[@]}" "$config_option" "$KAFKA_TOOL_DIR/client.properties" "$@"
}

# ---------------------------------------------------------------- KMS (local-kms)

KMS_PID="$RUN/kms.pid"
KMS_LOG="$LOGS/kms.log"

kms_build() {
  local stamp="$VEIL_CACHE/bin/.local-kms.gosum"
  if [[ ! -x "$LOCAL_KMS_BIN" ]] || ! cmp -s "$REPO_ROOT/tools/local-kms/go.sum" "$stamp" ||
    [[ "$REPO_ROOT/tools/local-kms/main.go" -nt "$LOCAL_KMS_BIN" ]]; then
    require_go
    say "building local-kms from the Go module proxy (tools/local-kms, version pinned in go.mod)"
    mkdir -p "$VEIL_CACHE/bin" "$LOGS"
    (cd "$REPO_ROOT/tools/local-kms" && GOFLAGS=-mod=mod GOBIN="$VEIL_CACHE/bin" go install .) >"$LOGS/kms-build.log" 2>&1 ||
      fail "building local-kms failed, see $LOGS/kms-build.log"
    cp "$REPO_ROOT/tools/local-kms/go.sum" "$stamp"
  fi
}

kms_up() {
  kms_build
  if pid_alive "$KMS_PID"; then
    say "kms already running on 127.0.0.1:$KMS_PORT"
    return
  fi
  require_port_free "$KMS_PORT" local-kms
  mkdir -p "$VEIL_HOME/kms"
  KMS_DATA_PATH="$VEIL_HOME/kms" KMS_SEED_PATH="$REPO_ROOT/deploy/kms/seed.yaml" KMS_REGION="$KMS_REGION" \
    KMS_HOST=127.0.0.1 PORT="$KMS_PORT" setsid nohup "$LOCAL_KMS_BIN" >>"$KMS_LOG" 2>&1 </dev/null &
  echo $! >"$KMS_PID"
  wait_until "the KMS endpoint" "$KMS_LOG" \
    "port_open $KMS_PORT || { pid_running '$KMS_PID' || fail 'local-kms exited during startup, see $KMS_LOG'; false; }"
  say "kms up on http://127.0.0.1:$KMS_PORT"
}

kms_down() { stop_pidfile "$KMS_PID" kms; }

# ---------------------------------------------------------------- commands

write_env() {
  local kafka db kms
  kafka="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
  db="${DATABASE_URL:-$(local_database_url)}"
  kms="${KMS_ENDPOINT:-http://127.0.0.1:$KMS_PORT}"
  cat >"$VEIL_HOME/env" <<EOF
# written by tools/infra.sh up: the infrastructure Veil's tools, services and tests use
# local mode: the developer stack, where the well-known local credentials are accepted
VEIL_MODE=local
KAFKA_BROKERS=$kafka
DATABASE_URL=$db
KMS_ENDPOINT=$kms
AWS_REGION=$KMS_REGION
VEIL_HOME=$VEIL_HOME
EOF
  if ! external_kafka && [[ -f "$KAFKA_CREDENTIALS" ]]; then
    # The local broker: TLS with the local CA, SCRAM credentials per principal (admin for tools
    # and tests; services get their own from VEIL_KAFKA_PASSWORD_<PRINCIPAL>).
    local name var
    {
      printf 'KAFKA_SECURITY_PROTOCOL=sasl_ssl\nKAFKA_SASL_MECHANISM=scram-sha-512\n'
      printf 'KAFKA_SSL_CA_FILE=%s\nKAFKA_SASL_USERNAME=admin\nKAFKA_SASL_PASSWORD=%s\n' "$KAFKA_TLS/ca.pem" "$(kafka_password admin)"
      for name in "${KAFKA_PRINCIPALS[@]}"; do
        [[ "$name" == admin ]] && continue
        var="VEIL_KAFKA_PASSWORD_$(echo "${name#veil-}" | tr 'a-z-' 'A-Z_')"
        printf '%s=%s\n' "$var" "$(kafka_password "$name")"
      done
    } >>"$VEIL_HOME/env"
  fi
  if ! external_kms; then
    # local-kms accepts any credentials; real AWS KMS uses the normal AWS credential chain.
    printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' local-kms local-kms >>"$VEIL_HOME/env"
  fi
  chmod 600 "$VEIL_HOME/env" # it holds the local stack's credentials
}

ensure_database() {
  # The admin connection creates the `veil` database once; schemas and roles come from tools/setup.
  external_pg && return
  local bin
  bin="$(pg_bin_dir)"
  if ! PGPASSWORD="$PG_ADMIN_PASSWORD" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = 'veil'" | grep -q 1; then
    PGPASSWORD="$PG_ADMIN_PASSWORD" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres veil
  fi
}

components() {
  local wanted="${1:-all}"
  case "$wanted" in
    all) echo postgres kafka kms ;;
    postgres | kafka | kms) echo "$wanted" ;;
    *) fail "unknown component '$wanted' (postgres, kafka, kms)" ;;
  esac
}

is_external() {
  case "$1" in
    postgres) external_pg ;;
    kafka) external_kafka ;;
    kms) external_kms ;;
  esac
}

cmd_up() {
  mkdir -p "$LOGS" "$RUN"
  local c list
  list="$(components "${1:-all}")" || exit 2
  for c in $list; do
    if is_external "$c"; then
      say "$c is external (set in the environment); not starting a local one"
      continue
    fi
    case "$c" in
      postgres) pg_up && ensure_database ;;
      kafka) kafka_up ;;
      kms) kms_up ;;
    esac
  done
  write_env
}

cmd_down() {
  local c list
  list="$(components "${1:-all}")" || exit 2
  for c in $list; do
    is_external "$c" && continue
    case "$c" in
      postgres) pg_down ;;
      kafka) kafka_down ;;
      kms) kms_down ;;
    esac
  done
}

cmd_status() {
  local c state rc=0 list
  list="$(components "${1:-all}")" || exit 2
  for c in $list; do
    if is_external "$c"; then
      state="external"
    else
      case "$c" in
        postgres) pg_running && state="up 127.0.0.1:$PG_PORT" || state="down" ;;
        kafka) pid_alive "$KAFKA_PID" && port_open "$KAFKA_PORT" && state="up 127.0.0.1:$KAFKA_PORT" || state="down" ;;
        kms) pid_alive "$KMS_PID" && port_open "$KMS_PORT" && state="up http://127.0.0.1:$KMS_PORT" || state="down" ;;
      esac
    fi
    [[ "$state" == down ]] && rc=3
    printf '%-9s %s\n' "$c" "$state"
  done
  return $rc
}

cmd_reset() {
  cmd_down "${1:-all}"
  local c list
  list="$(components "${1:-all}")" || exit 2
  for c in $list; do
    is_external "$c" && continue
    case "$c" in
      postgres)
        rm -rf "$PG_DATA"
        if [[ -f "$PG_ELSEWHERE" ]]; then
          rm -rf "$(cat "$PG_ELSEWHERE")" "$PG_ELSEWHERE"
          rmdir --ignore-fail-on-non-empty /var/lib/veil
        fi
        ;;
      kafka) rm -rf "$KAFKA_DIR" ;;
      kms) rm -rf "$VEIL_HOME/kms" ;;
    esac
    say "$c data wiped"
  done
}

cmd_logs() {
  local c list
  list="$(components "${1:-all}")" || exit 2
  for c in $list; do
    case "$c" in
      postgres) echo "$PG_LOG" ;;
      kafka) echo "$KAFKA_LOG_DIR/kafka.log" ;;
      kms) echo "$KMS_LOG" ;;
    esac
  done | while read -r f; do
    [[ -f "$f" ]] || continue
    printf '==> %s <==\n' "$f"
    tail -n "${VEIL_LOG_LINES:-50}" "$f"
  done
}

usage() {
  cat <<EOF
usage: tools/infra.sh <command> [postgres|kafka|kms]
  up       start the local components (idempotent) and write $VEIL_HOME/env
  down     stop them; data is kept
  status   show what runs (exit 3 if anything is down)
  reset    stop them and wipe their data
  logs     print the tail of each component's log
usage: tools/infra.sh kafka <tool> [arguments of Kafka's tool]
  consumer-groups | topics | console-consumer | console-producer: Kafka's own tool, connected to
  the stack's Kafka (settings from $VEIL_HOME/env, or KAFKA_BROKERS etc. in the environment)
EOF
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    reset) cmd_reset "$@" ;;
    logs) cmd_logs "$@" ;;
    kafka) cmd_kafka "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
