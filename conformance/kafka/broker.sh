#!/usr/bin/env bash
# A real Apache Kafka broker for tests and CI, on loopback only.
#
#   conformance/kafka/broker.sh start   fetch (cached), configure, start, wait until ready, print env
#   conformance/kafka/broker.sh env     print the env of the running broker (source it: eval "$(... env)")
#   conformance/kafka/broker.sh stop    stop it by its PID (SIGTERM, then SIGKILL after 30 s)
#   conformance/kafka/broker.sh restart stop the broker by its PID and start it again on the same
#                                       ports and data (the registry keeps running); waits until ready
#   conformance/kafka/broker.sh status  exit 0 if it is running
#
# One KRaft node (broker + controller) with four listeners on 127.0.0.1:
# PLAINTEXT, SASL_PLAINTEXT, SSL and SASL_SSL. SASL accepts PLAIN,
# SCRAM-SHA-256 and SCRAM-SHA-512 for one user (ARROYO_KAFKA_USER /
# ARROYO_KAFKA_PASSWORD, default arroyo / arroyo-secret); the SCRAM
# credentials are written into the storage directory at format time. The
# test CA and the broker's certificate (SAN IP 127.0.0.1, DNS localhost) are
# generated with openssl.
#
# Kafka and its runtime dependencies come from Maven Central through
# pom.xml (mvn dependency:copy-dependencies) into
# ${ARROYO_KAFKA_CACHE:-$HOME/.cache/arroyo-kafka}/libs-VERSION, once. The
# broker's state (config, data, certs, log, PID) lives in
# ${ARROYO_KAFKA_DIR:-$ARROYO_KAFKA_CACHE/run}; every start formats it anew.
# Beside the broker it starts srfake (conformance/kafka/srfake, the fake
# Confluent Schema Registry of franz-go: there is none on Maven Central) on
# 127.0.0.1 and exports its URL as ARROYO_CONFORMANCE_SCHEMA_REGISTRY; set
# ARROYO_KAFKA_SCHEMA_REGISTRY=0 to skip it.
#
# Any failure exits non-zero with the reason (and the broker log's tail):
# CI must fail loudly, never skip.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${ARROYO_KAFKA_CACHE:-${HOME:-/tmp}/.cache/arroyo-kafka}"
libs="$cache/libs-$version"
run="${ARROYO_KAFKA_DIR:-$cache/run}"
user="${ARROYO_KAFKA_USER:-arroyo}"
password="${ARROYO_KAFKA_PASSWORD:-arroyo-secret}"
storepass="arroyo-test-store"
ready_timeout="${ARROYO_KAFKA_READY_TIMEOUT:-120}"

die() { echo "broker.sh: $*" >&2; exit 1; }

log_tail() {
  if [ -f "$run/server.log" ]; then
    echo "--- last lines of $run/server.log ---" >&2
    tail -n 40 "$run/server.log" >&2
  fi
}

running() {
  [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null
}

repo="$(cd "$here/../.." && pwd)"
with_registry="${ARROYO_KAFKA_SCHEMA_REGISTRY:-1}"

# start_registry builds and starts srfake; registry_wait waits for its URL.
start_registry() {
  [ "$with_registry" = 1 ] || return 0
  command -v go >/dev/null || die "go not found: needed to build the fake schema registry (ARROYO_KAFKA_SCHEMA_REGISTRY=0 skips it)"
  (cd "$repo" && go build -o "$run/srfake" ./conformance/kafka/srfake) || die "could not build conformance/kafka/srfake"
  setsid "$run/srfake" -url-file "$run/srfake.url" >>"$run/srfake.log" 2>&1 < /dev/null &
  echo $! > "$run/srfake.pid"
}

registry_wait() {
  [ "$with_registry" = 1 ] || return 0
  for _ in $(seq 1 100); do
    if [ -s "$run/srfake.url" ]; then
      echo "export ARROYO_CONFORMANCE_SCHEMA_REGISTRY=$(cat "$run/srfake.url")" >> "$run/env.sh"
      return 0
    fi
    kill -0 "$(cat "$run/srfake.pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$run/srfake.log" >&2 || true
  die "the fake schema registry did not start"
}

# kill_pid FILE NAME stops the process whose PID FILE holds (SIGTERM, then
# SIGKILL after 30 s).
kill_pid() {
  local file=$1 name=$2 pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "broker.sh: $name (PID $pid) ignored SIGTERM for 30s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
  echo "broker.sh: stopped $name (PID $pid)" >&2
}

fetch() {
  if [ -f "$libs/.complete" ]; then
    return
  fi
  command -v mvn >/dev/null || die "mvn not found: Maven is needed to fetch Kafka $version"
  command -v java >/dev/null || die "java not found: a Java 17+ runtime is needed to run Kafka $version"
  echo "broker.sh: fetching Kafka $version and its dependencies into $libs" >&2
  rm -rf "$libs.tmp"
  mkdir -p "$libs.tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs.tmp" >&2; then
    rm -rf "$libs.tmp"
    die "could not fetch Kafka $version from Maven (see the mvn output above)"
  fi
  ls "$libs.tmp"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "mvn did not deliver kafka_2.13-$version.jar"
  touch "$libs.tmp/.complete"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
}

# free_ports N prints N distinct free TCP ports on 127.0.0.1.
free_ports() {
  command -v python3 >/dev/null || die "python3 not found: needed to pick free ports"
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

certs() {
  local d="$run/certs"
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=arroyo test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || die "openssl could not make the test CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/broker.key" -out "$d/broker.csr" >/dev/null 2>&1 || die "openssl could not make the broker key"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$d/ext.cnf"
  openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile "$d/ext.cnf" -out "$d/broker.pem" >/dev/null 2>&1 || die "openssl could not sign the broker certificate"
  openssl pkcs12 -export -in "$d/broker.pem" -inkey "$d/broker.key" -certfile "$d/ca.pem" -name broker \
    -passout "pass:$storepass" -out "$d/broker.p12" >/dev/null 2>&1 || die "openssl could not write the keystore"
}

configure() {
  read -r p_plain p_sasl p_ssl p_sasl_ssl p_ctrl <<<"$(free_ports 5)"
  local jaas_plain="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$user\" password=\"$password\" user_$user=\"$password\";"
  local jaas_scram="org.apache.kafka.common.security.scram.ScramLoginModule required;"
  cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$p_ctrl
listeners=PLAINTEXT://127.0.0.1:$p_plain,SASL_PLAINTEXT://127.0.0.1:$p_sasl,SSL://127.0.0.1:$p_ssl,SASL_SSL://127.0.0.1:$p_sasl_ssl,CONTROLLER://127.0.0.1:$p_ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$p_plain,SASL_PLAINTEXT://127.0.0.1:$p_sasl,SSL://127.0.0.1:$p_ssl,SASL_SSL://127.0.0.1:$p_sasl_ssl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=$jaas_plain
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=$jaas_scram
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$jaas_scram
listener.name.sasl_ssl.plain.sasl.jaas.config=$jaas_plain
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$jaas_scram
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas_scram
ssl.keystore.type=PKCS12
ssl.keystore.location=$run/certs/broker.p12
ssl.keystore.password=$storepass
ssl.key.password=$storepass
ssl.client.auth=none
log.dirs=$run/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat > "$run/log4j2.properties" <<'LOG'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
LOG
  cat > "$run/env.sh" <<ENV
export ARROYO_CONFORMANCE_KAFKA=127.0.0.1:$p_plain
export ARROYO_CONFORMANCE_KAFKA_SASL_PLAINTEXT=127.0.0.1:$p_sasl
export ARROYO_CONFORMANCE_KAFKA_SSL=127.0.0.1:$p_ssl
export ARROYO_CONFORMANCE_KAFKA_SASL_SSL=127.0.0.1:$p_sasl_ssl
export ARROYO_CONFORMANCE_SASL_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
export ARROYO_CONFORMANCE_SASL_USERNAME=$user
export ARROYO_CONFORMANCE_SASL_PASSWORD=$password
export ARROYO_CONFORMANCE_TLS_CA=$run/certs/ca.pem
export ARROYO_CONFORMANCE_KAFKA_PROVIDER=apache-kafka-$version
export ARROYO_CONFORMANCE_KAFKA_RESTART="ARROYO_KAFKA_DIR=$run $here/broker.sh restart"
ENV
}

java_cmd() {
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$libs/*" "$@"
}

# launch starts the broker of $run/server.properties in the background.
launch() {
  # setsid: the broker gets its own session, so it outlives this script
  # but is stopped only by its PID (broker.sh stop).
  setsid java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$libs/*" \
    kafka.Kafka "$run/server.properties" >>"$run/server.log" 2>&1 < /dev/null &
  echo $! > "$run/pid"
}

# wait_ready N waits until the log says "Kafka Server started" more than N
# times and the PLAINTEXT port accepts connections.
wait_ready() {
  local before=$1 deadline=$((SECONDS + ready_timeout)) n
  # shellcheck disable=SC1091
  source "$run/env.sh"
  while :; do
    if ! running; then
      log_tail
      die "the broker exited during startup"
    fi
    n="$(grep -c "Kafka Server started" "$run/server.log" 2>/dev/null || true)"
    if [ "${n:-0}" -gt "$before" ] &&
      (exec 3<>"/dev/tcp/127.0.0.1/${ARROYO_CONFORMANCE_KAFKA##*:}") 2>/dev/null; then
      break
    fi
    if [ $SECONDS -ge $deadline ]; then
      log_tail
      die "the broker was not ready after ${ready_timeout}s"
    fi
    sleep 0.5
  done
}

# restart stops the broker by its PID and starts it again with the same
# configuration, ports and data; the schema registry keeps running.
restart() {
  running || die "no broker running"
  local t0=$SECONDS before
  before="$(grep -c "Kafka Server started" "$run/server.log" 2>/dev/null || true)"
  kill_pid "$run/pid" "the broker"
  launch
  wait_ready "${before:-0}"
  echo "broker.sh: restarted Apache Kafka $version (PID $(cat "$run/pid")) in $((SECONDS - t0))s" >&2
}

start() {
  if running; then
    die "a broker is already running (PID $(cat "$run/pid")); run 'broker.sh stop' first"
  fi
  local t0=$SECONDS
  fetch
  local t_fetch=$((SECONDS - t0))
  rm -rf "$run"
  mkdir -p "$run/data"
  # Whatever fails from here on, leave no process behind.
  trap 'if [ "${started:-0}" != 1 ]; then stop >/dev/null 2>&1 || true; fi' EXIT
  certs
  configure
  # A cluster id is 16 random bytes in URL-safe base64 without padding
  # (what kafka-storage random-uuid prints, without starting a JVM for it).
  # Like Kafka's Uuid.randomUuid, never one that starts with '-': the
  # storage tool's argument parser would read it as an option (1 run in 64
  # failed so: "argument --cluster-id/-t: expected one argument").
  local cluster
  cluster="$(python3 -c 'import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        break
print(s)')"
  java_cmd kafka.tools.StorageTool format --cluster-id="$cluster" -c "$run/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=$user,password=$password]" \
    --add-scram "SCRAM-SHA-512=[name=$user,password=$password]" >>"$run/server.log" 2>&1 ||
    { log_tail; die "kafka-storage format failed"; }
  launch
  start_registry
  wait_ready 0
  registry_wait
  started=1
  echo "broker.sh: Apache Kafka $version ready (PID $(cat "$run/pid")) in $((SECONDS - t0))s (fetch ${t_fetch}s); log $run/server.log" >&2
  cat "$run/env.sh"
}

stop() {
  if ! [ -f "$run/pid" ] && ! [ -f "$run/srfake.pid" ]; then
    echo "broker.sh: no broker PID file in $run" >&2
    return 0
  fi
  kill_pid "$run/srfake.pid" "the fake schema registry"
  kill_pid "$run/pid" "the broker"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  env) running || die "no broker running"; cat "$run/env.sh" ;;
  status) running ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|restart|env|status|fetch" >&2; exit 2 ;;
esac
