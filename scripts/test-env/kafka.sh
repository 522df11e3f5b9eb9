#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) for tests, without Docker: the broker jars
# come from Maven Central, storage is formatted in a temporary directory, and
# every listener is on 127.0.0.1. The test set-up (test/global-setup.ts) calls
# `start` and `stop` when no KAFKA_BROKERS is given.
#
# Usage: test-env.sh resolve          download the broker jars (skipped when present)
#        test-env.sh start            start a broker; prints KAFKA_BROKERS=127.0.0.1:PORT
#        test-env.sh stop             stop it and delete its temp dir
#        test-env.sh status           print the state, exit 1 when not running
#        test-env.sh pause | resume   stop the broker process / start it again on the same ports and data (outage tests)
#        test-env.sh freeze | thaw    SIGSTOP / SIGCONT the broker: connections stay open, nothing answers (outage tests)
#        test-env.sh run -- CMD...    start, run CMD with KAFKA_BROKERS exported, stop
#
# Environment:
#   KAFKA_CACHE_DIR     default <repo>/.cache/kafka  (git-ignored)
#   KAFKA_LIB_DIR       default $KAFKA_CACHE_DIR/lib        (the resolved jars)
#   KAFKA_STATE_FILE    default $KAFKA_CACHE_DIR/state.env  (pid, ports, temp dir)
#   KAFKA_START_TIMEOUT seconds to wait for "Kafka Server started", default 90
#   KAFKA_RESUME_TIMEOUT the same for `resume` (log recovery after the kill), default 180;
#                        then the stuck process is ended and started once more
#   KAFKA_HEAP_OPTS     default "-Xms256m -Xmx512m"
#   MVN                 maven command, default mvn
set -euo pipefail

KAFKA_VERSION=3.9.1
SCALA_VERSION=2.13
SLF4J_RELOAD4J_VERSION=1.7.36
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
KAFKA_CACHE_DIR=${KAFKA_CACHE_DIR:-$REPO_DIR/.cache/kafka}
KAFKA_LIB_DIR=${KAFKA_LIB_DIR:-$KAFKA_CACHE_DIR/lib}
KAFKA_STATE_FILE=${KAFKA_STATE_FILE:-$KAFKA_CACHE_DIR/state.env}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_RESUME_TIMEOUT=${KAFKA_RESUME_TIMEOUT:-180}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
MVN=${MVN:-mvn}
STAMP="kafka_${SCALA_VERSION}-${KAFKA_VERSION}+slf4j-reload4j-${SLF4J_RELOAD4J_VERSION}"

log() { echo "test-env: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- resolve
resolve() {
  if [[ -f "$KAFKA_LIB_DIR/.resolved" && "$(cat "$KAFKA_LIB_DIR/.resolved")" == "$STAMP" ]] \
     && compgen -G "$KAFKA_LIB_DIR/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" >/dev/null; then
    return 0
  fi
  command -v "$MVN" >/dev/null || die "maven ($MVN) not found"
  mkdir -p "$KAFKA_CACHE_DIR"
  local work; work=$(mktemp -d "$KAFKA_CACHE_DIR/resolve.XXXXXX")
  cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.test</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>${SLF4J_RELOAD4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "resolving $STAMP with maven into $KAFKA_LIB_DIR ..."
  local t0=$SECONDS
  if ! "$MVN" -B -q -f "$work/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
        -DoutputDirectory="$work/lib" -DincludeScope=runtime >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    die "maven resolve failed (log kept in $work)"
  fi
  echo "$STAMP" >"$work/lib/.resolved"
  rm -rf "$KAFKA_LIB_DIR"
  mkdir -p "$(dirname "$KAFKA_LIB_DIR")"
  mv "$work/lib" "$KAFKA_LIB_DIR"
  rm -rf "$work"
  log "resolved $(ls "$KAFKA_LIB_DIR"/*.jar | wc -l) jars in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- helpers
# Two free loopback ports, chosen by the OS (sockets held open together so they differ).
free_ports() {
  if command -v node >/dev/null; then
    node -e '
      const net = require("net"); const a = net.createServer(), b = net.createServer();
      a.listen(0, "127.0.0.1", () => b.listen(0, "127.0.0.1", () => {
        console.log(a.address().port, b.address().port); a.close(); b.close(); }));'
  else
    python3 -c '
import socket
s=[socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1",0))
print(*[x.getsockname()[1] for x in s])'
  fi
}

# Kafka Uuid string: 16 random bytes, base64url without padding, must not start with "-".
cluster_id() {
  local id
  while :; do
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id != -* ]] && { echo "$id"; return; }
  done
}

read_state() {
  [[ -f "$KAFKA_STATE_FILE" ]] || return 1
  # shellcheck disable=SC1090
  source "$KAFKA_STATE_FILE"
}

# True when $KAFKA_PID is alive and is our java (its command line names our temp dir).
our_broker_alive() {
  [[ -n "${KAFKA_PID:-}" && -n "${KAFKA_TMP_DIR:-}" ]] || return 1
  kill -0 "$KAFKA_PID" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$KAFKA_PID/cmdline" 2>/dev/null | grep -qF "$KAFKA_TMP_DIR/server.properties"
}

print_env() {
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "KAFKA_PID=$KAFKA_PID"
  echo "KAFKA_TMP_DIR=$KAFKA_TMP_DIR"
}

# ---------------------------------------------------------------- start
start() {
  if read_state && our_broker_alive; then
    log "already running (pid $KAFKA_PID)"
    print_env
    return 0
  fi
  [[ -f "$KAFKA_STATE_FILE" ]] && { log "removing stale state"; stop_quiet; }
  command -v java >/dev/null || die "java not found"
  resolve

  local t0; t0=$(date +%s%N)
  local tmp; tmp=$(mktemp -d "${TMPDIR:-/tmp}/kafka-test.XXXXXX")
  local ports port cport
  ports=$(free_ports); read -r port cport <<<"$ports"
  [[ -n "$port" && -n "$cport" ]] || die "could not pick free ports"

  cat >"$tmp/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$tmp/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
EOF

  # Quiet: WARN and above to a file; the one INFO line used for readiness is let through.
  cat >"$tmp/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$tmp/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
EOF

  local cp="$KAFKA_LIB_DIR/*"
  local jlog="-Dlog4j.configuration=file:$tmp/log4j.properties"
  if ! java -cp "$cp" "$jlog" kafka.tools.StorageTool format \
        -t "$(cluster_id)" -c "$tmp/server.properties" >"$tmp/format.log" 2>&1; then
    cat "$tmp/format.log" >&2; rm -rf "$tmp"; die "storage format failed"
  fi

  # setsid: own process group, survives this script and the caller's terminal.
  # shellcheck disable=SC2086
  setsid java $KAFKA_HEAP_OPTS -XX:+UseSerialGC -Djava.awt.headless=true "$jlog" \
      -cp "$cp" kafka.Kafka "$tmp/server.properties" \
      >"$tmp/stdout.log" 2>&1 </dev/null &
  local pid=$!

  mkdir -p "$(dirname "$KAFKA_STATE_FILE")"
  cat >"$KAFKA_STATE_FILE" <<EOF
KAFKA_PID=$pid
KAFKA_PORT=$port
KAFKA_CONTROLLER_PORT=$cport
KAFKA_TMP_DIR=$tmp
EOF
  KAFKA_PID=$pid KAFKA_PORT=$port KAFKA_TMP_DIR=$tmp

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until grep -q "Kafka Server started" "$tmp/server.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during start-up:"; tail -n 40 "$tmp/stdout.log" "$tmp/server.log" >&2 || true
      stop_quiet; die "broker did not start"
    fi
    if ((SECONDS >= deadline)); then
      log "not ready after ${KAFKA_START_TIMEOUT}s:"; tail -n 40 "$tmp/stdout.log" "$tmp/server.log" >&2 || true
      stop_quiet; die "start timeout"
    fi
    sleep 0.2
  done
  # Belt and braces: the client listener accepts connections.
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { stop_quiet; die "port $port not accepting"; }
  log "broker ready on 127.0.0.1:$port (pid $pid) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  print_env
}

# ---------------------------------------------------------------- stop
stop_quiet() {
  read_state || return 0
  if our_broker_alive; then
    kill -CONT "$KAFKA_PID" 2>/dev/null || true # a frozen broker cannot act on SIGTERM
    kill -TERM "$KAFKA_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 150; i++)); do kill -0 "$KAFKA_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$KAFKA_PID" 2>/dev/null; then
      log "pid $KAFKA_PID ignored SIGTERM for 15s, sending SIGKILL"
      kill -KILL "$KAFKA_PID" 2>/dev/null || true
    fi
  fi
  [[ -n "${KAFKA_TMP_DIR:-}" && "$KAFKA_TMP_DIR" == */kafka-test.* ]] && rm -rf "$KAFKA_TMP_DIR"
  rm -f "$KAFKA_STATE_FILE"
}

stop() {
  if ! read_state; then log "not running (no state file)"; return 0; fi
  stop_quiet
  log "stopped"
}

status() {
  if read_state && our_broker_alive; then print_env; else log "not running"; return 1; fi
}

run() {
  [[ ${1:-} == -- ]] && shift
  (($#)) || die "usage: $0 run -- CMD..."
  local out; out=$(start)
  trap stop_quiet EXIT INT TERM
  export KAFKA_BROKERS=${out#*KAFKA_BROKERS=}; KAFKA_BROKERS=${KAFKA_BROKERS%%$'\n'*}
  "$@"
}

# ---------------------------------------------------------------- pause / resume
# For outage tests: stop the broker process but keep its ports, data and state,
# then start it again on the same address, so clients reconnect by themselves.
pause() {
  read_state || die "not running (no state file)"
  our_broker_alive || die "broker process is not running"
  kill -TERM "$KAFKA_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 150; i++)); do kill -0 "$KAFKA_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$KAFKA_PID" 2>/dev/null || true
  log "paused (pid $KAFKA_PID stopped; $KAFKA_TMP_DIR kept)"
}

resume() {
  read_state || die "no state file"
  our_broker_alive && { log "already running"; print_env; return 0; }
  [[ -f "$KAFKA_TMP_DIR/server.properties" ]] || die "nothing to resume in $KAFKA_TMP_DIR"
  local tmp=$KAFKA_TMP_DIR cp="$KAFKA_LIB_DIR/*" jlog="-Dlog4j.configuration=file:$KAFKA_TMP_DIR/log4j.properties"
  : >"$tmp/server.log"
  # shellcheck disable=SC2086
  setsid java $KAFKA_HEAP_OPTS -XX:+UseSerialGC -Djava.awt.headless=true "$jlog" \
      -cp "$cp" kafka.Kafka "$tmp/server.properties" >>"$tmp/stdout.log" 2>&1 </dev/null &
  local pid=$!
  sed -i "s/^KAFKA_PID=.*/KAFKA_PID=$pid/" "$KAFKA_STATE_FILE"
  KAFKA_PID=$pid
  # Longer than a first start: after the kill it recovers its logs, often on a host loaded by the runners under test.
  local deadline=$((SECONDS + KAFKA_RESUME_TIMEOUT))
  until grep -q "Kafka Server started" "$tmp/server.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$tmp/stdout.log" >&2
      # Once more: on a loaded host the killed process's port or log-dir lock can outlive it for a moment.
      if [[ -z "${KAFKA_RESUME_RETRIED:-}" ]]; then
        log "broker did not restart; trying once more in 2 s"
        sleep 2
        KAFKA_RESUME_RETRIED=1 resume
        return
      fi
      die "broker did not restart"
    fi
    if ((SECONDS >= deadline)); then
      log "not restarted after ${KAFKA_RESUME_TIMEOUT}s:"
      tail -n 40 "$tmp/stdout.log" "$tmp/server.log" >&2 || true
      # Once more, from a clean stop: a start stuck on a loaded host (log recovery after the kill, a slow JVM) is ended first.
      if [[ -z "${KAFKA_RESUME_RETRIED:-}" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        log "trying once more in 2 s"
        sleep 2
        KAFKA_RESUME_RETRIED=1 resume
        return
      fi
      die "restart timeout"
    fi
    sleep 0.2
  done
  log "resumed on 127.0.0.1:$KAFKA_PORT (pid $pid)"
  print_env
}

# ---------------------------------------------------------------- freeze / thaw
# For outage tests: the broker process is stopped (SIGSTOP) with its sockets
# open, so clients see a broker that accepts nothing and answers nothing (a
# hung host, a long GC pause), then continued (SIGCONT).
freeze() {
  read_state || die "not running (no state file)"
  our_broker_alive || die "broker process is not running"
  kill -STOP "$KAFKA_PID"
  log "frozen (pid $KAFKA_PID)"
}

thaw() {
  read_state || die "not running (no state file)"
  [[ -n "${KAFKA_PID:-}" ]] && kill -0 "$KAFKA_PID" 2>/dev/null || die "broker process is not running"
  kill -CONT "$KAFKA_PID"
  log "thawed (pid $KAFKA_PID)"
}

case "${1:-}" in
  resolve) resolve ;;
  freeze) freeze ;;
  thaw) thaw ;;
  pause) pause ;;
  resume) resume ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 {resolve|start|stop|status|pause|resume|freeze|thaw|run -- CMD...}" >&2; exit 2 ;;
esac
