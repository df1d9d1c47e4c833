#!/bin/sh
# kafka.sh - a throwaway single-node Apache Kafka broker (KRaft mode) for the
# tests.
#
#   kafka.sh start DIR           starts a broker (and its controller) whose
#                                files all live in DIR; prints its bootstrap
#                                address, 127.0.0.1:PORT, as the only line on
#                                stdout. A leftover broker in DIR is stopped.
#   kafka.sh stop DIR            stops it (SIGTERM, SIGKILL after a timeout)
#                                and removes DIR.
#   kafka.sh topic DIR NAME N [TopicCommand options...]
#                                creates topic NAME with N partitions
#                                (replication factor 1), e.g. with
#                                `--config cleanup.policy=compact`, and waits
#                                until every partition has its leader.
#   kafka.sh bootstrap DIR       prints the bootstrap address again.
#   kafka.sh fetch               only fills the cache (see below).
#
# The broker's jars come from Maven Central through `mvn` (kafka-pom.xml
# beside this script names them) into a cache outside the repository:
# ${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/articles/kafka-VERSION},
# fetched once (under a lock, so concurrent runs fetch it only once) and
# reused after. Needs java (11 or later; 17 here), mvn and kcat; those missing
# are installed with apt-get when it can (root, or sudo without a password).
#
# Environment: KAFKA_VERSION (default below), KAFKA_CACHE_DIR, JAVA_HOME,
# KAFKA_HEAP_OPTS (default -Xms128m -Xmx512m), KAFKA_START_TIMEOUT (seconds,
# default 50), KAFKA_STOP_TIMEOUT (seconds, default 20), KAFKA_SEGMENT_BYTES
# (log.segment.bytes, default 1 MiB: a test broker holds little; a benchmark
# gives Kafka's own default, 1 GiB, since every segment roll costs the broker
# CPU).
set -eu

KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}
here=$(cd "$(dirname "$0")" && pwd)
pom=$here/kafka-pom.xml

die() {
    echo "kafka.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR | stop DIR | topic DIR NAME PARTITIONS [options] | bootstrap DIR | fetch" >&2
    exit 2
}

abspath() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}

# --- tools -------------------------------------------------------------------

# apt_install PACKAGE...: as root, or through sudo when it needs no password.
apt_install() {
    if [ "$(id -u)" -eq 0 ]; then
        sudo=
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        return 1
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    echo "kafka.sh: installing $*" >&2
    # The package lists may be missing or stale on a fresh machine.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
        >/dev/null 2>&1 && return 0
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

# need COMMAND PACKAGE: COMMAND on PATH, installing PACKAGE if it is not.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    apt_install "$2" || true
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' is missing: install the Debian package '$2' (apt-get install $2)"
}

setup_java() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        java=$JAVA_HOME/bin/java
    else
        need java default-jre-headless
        java=java
    fi
}

# --- the cache of jars -------------------------------------------------------

user_home() {
    if [ -n "${HOME:-}" ]; then
        printf '%s\n' "$HOME"
    else
        getent passwd "$(id -u)" | cut -d: -f6
    fi
}

cache=${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$(user_home)/.cache}/articles/kafka-$KAFKA_VERSION}
cache=$(abspath "$cache")
libs=$cache/libs

# What the cache was made from: a new version or a changed pom refetches.
stamp() {
    printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum <"$pom" | cut -d' ' -f1)"
}

cache_ok() {
    [ -f "$cache/.complete" ] && [ "$(cat "$cache/.complete")" = "$(stamp)" ]
}

fetch() {
    cache_ok && return 0
    [ -f "$pom" ] || die "no $pom"
    setup_java
    need mvn maven
    need flock util-linux
    mkdir -p "$(dirname "$cache")"
    # One fetch at a time; whoever waited finds the cache made.
    exec 9>"$cache.lock"
    flock -w 900 9 || die "timed out waiting for the lock $cache.lock"
    if ! cache_ok; then
        echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION from Maven Central into $cache" >&2
        rm -rf "$cache"
        mkdir -p "$cache"
        # A repository of its own under the cache: no artifact of ~/.m2 is used
        # or changed, and a fetch is the same on any machine. It is removed
        # after: only the jars are kept. Run from the cache directory so
        # nothing is ever written beside the pom.
        if ! (cd "$cache" && mvn -B -q -f "$pom" \
            -Dkafka.version="$KAFKA_VERSION" -Dmaven.repo.local="$cache/m2" \
            dependency:copy-dependencies -DoutputDirectory="$libs") >"$cache/fetch.log" 2>&1; then
            tail -n 40 "$cache/fetch.log" >&2
            rm -rf "$cache/m2" "$libs"
            flock -u 9
            die "fetching Kafka $KAFKA_VERSION with Maven failed (log above, in full in $cache/fetch.log)"
        fi
        ls "$libs"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 ||
            die "Maven fetched no kafka_2.13-$KAFKA_VERSION.jar into $libs"
        rm -rf "$cache/m2"
        stamp >"$cache/.complete"
    fi
    flock -u 9
    exec 9>&-
}

# --- a broker ----------------------------------------------------------------

# A port the kernel reports free; without python3, a pseudo-random one in the
# dynamic range (a taken one just makes the start below try again).
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null ||
        echo $((49152 + ($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 16000))
}

# The broker's pid when it is still running, from DIR/kafka.pid (checked
# against its command line, so a recycled pid is never signalled).
broker_pid() {
    [ -f "$1/kafka.pid" ] || return 1
    pid=$(cat "$1/kafka.pid")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # A zombie (a parent that does not reap) counts as stopped.
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
    [ "$state" != Z ] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$1/server.properties" || return 1
    printf '%s\n' "$pid"
}

kill_broker() {
    pid=$(broker_pid "$1") || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    # Tenths of a second.
    left=$((${KAFKA_STOP_TIMEOUT:-20} * 10))
    while broker_pid "$1" >/dev/null; do
        if [ "$left" -le 0 ]; then
            echo "kafka.sh: the broker (pid $pid) ignores SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
        left=$((left - 1))
    done
}

stop_broker() {
    kill_broker "$1"
    rm -rf "$1"
}

log_tail() {
    for f in "$1/server.log" "$1/console.log"; do
        if [ -s "$f" ]; then
            echo "--- last lines of $f:" >&2
            tail -n 30 "$f" >&2
        fi
    done
}

write_config() {
    dir=$1 port=$2 cport=$3
    segment_bytes=${KAFKA_SEGMENT_BYTES:-1048576}
    case $segment_bytes in
    '' | *[!0-9]*) die "KAFKA_SEGMENT_BYTES must be a number of bytes: $segment_bytes" ;;
    esac
    cat >"$dir/server.properties" <<EOF
# A single node that is its own KRaft controller, for the tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data

# Topics are made by the tests (kafka.sh topic), never by a typo.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
auto.leader.rebalance.enable=false

# Small and quick: a test broker holds little and lives for seconds.
log.segment.bytes=$segment_bytes
log.index.size.max.bytes=131072
log.retention.check.interval.ms=10000
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
EOF
}

write_log4j() {
    cat >"$1/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$1/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=1
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
EOF
    # The command-line tools: warnings and errors only, on stderr.
    cat >"$1/tools-log4j.properties" <<EOF
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# tool DIR CLASS ARGS...: one of Kafka's command-line tools.
tool() {
    d=$1 cls=$2
    shift 2
    (cd "$d" && "$java" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$d/tools-log4j.properties" \
        -cp "$libs/*" "$cls" "$@")
}

# ready DIR PORT: the broker answers a metadata request and lists itself.
ready() {
    kcat -b "127.0.0.1:$2" -L -m 2 2>/dev/null | grep -q "broker 1 at 127\.0\.0\.1:$2"
}

# launch DIR: one try at starting the broker on fresh ports. Returns 0 when it
# is up, 3 when a port was taken (try again), 1 on any other failure.
launch() {
    dir=$1
    port=$(free_port)
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    rm -rf "$dir/data" "$dir/server.log"* "$dir/console.log"
    write_config "$dir" "$port" "$cport"

    if ! tool "$dir" kafka.tools.StorageTool format -t "$cluster_id" \
        -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
        cat "$dir/format.log" >&2
        echo "kafka.sh: formatting the storage failed" >&2
        return 1
    fi

    # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of options
    (cd "$dir" && exec "$java" ${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m} \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:-UsePerfData \
        -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" \
        -Dkafka.logs.dir="$dir" \
        -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
        </dev/null >"$dir/console.log" 2>&1) &
    echo $! >"$dir/kafka.pid"

    # Tenths of a second.
    left=$((${KAFKA_START_TIMEOUT:-50} * 10))
    waited=0
    while :; do
        if ! broker_pid "$dir" >/dev/null; then
            if grep -qs -e 'Address already in use' -e 'BindException' \
                "$dir/server.log" "$dir/console.log"; then
                return 3
            fi
            log_tail "$dir"
            echo "kafka.sh: the broker exited while starting (files in $dir)" >&2
            return 1
        fi
        # Ask the broker once its log says it has started (a kcat started
        # too early waits out its own timeout), and after 10 s every second
        # anyway.
        if { grep -qs 'Kafka Server started' "$dir/server.log" ||
            { [ "$waited" -ge 100 ] && [ $((waited % 10)) -eq 0 ]; }; } &&
            ready "$dir" "$port"; then
            echo "127.0.0.1:$port" >"$dir/bootstrap"
            return 0
        fi
        if [ "$left" -le 0 ]; then
            log_tail "$dir"
            echo "kafka.sh: the broker did not answer on 127.0.0.1:$port within ${KAFKA_START_TIMEOUT:-50} s" >&2
            return 1
        fi
        sleep 0.1
        left=$((left - 1))
        waited=$((waited + 1))
    done
}

start_broker() {
    dir=$1
    case $dir in
    *,* | *\\* | *'
'*) die "DIR must not hold a comma, a backslash or a newline: $dir" ;;
    esac
    fetch
    setup_java
    need kcat kcat
    [ -e "$dir" ] && stop_broker "$dir"
    mkdir -p "$dir"
    write_log4j "$dir"

    if ! cluster_id=$(tool "$dir" kafka.tools.StorageTool random-uuid 2>"$dir/uuid.log") ||
        [ -z "$cluster_id" ]; then
        cat "$dir/uuid.log" >&2
        echo "kafka.sh: kafka.tools.StorageTool random-uuid failed" >&2
        return 1
    fi

    tries=0
    while :; do
        rc=0
        launch "$dir" || rc=$?
        [ "$rc" -eq 0 ] && break
        kill_broker "$dir"
        [ "$rc" -eq 3 ] || return 1
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            log_tail "$dir"
            echo "kafka.sh: no free port for the broker after $tries tries" >&2
            return 1
        fi
    done
    cat "$dir/bootstrap"
}

bootstrap_of() {
    if [ ! -f "$1/bootstrap" ] || ! broker_pid "$1" >/dev/null; then
        die "no running broker in $1 (kafka.sh start $1 first)"
    fi
    cat "$1/bootstrap"
}

create_topic() {
    dir=$1 name=$2 parts=$3
    shift 3
    case $parts in
    '' | *[!0-9]*) die "PARTITIONS must be a number: $parts" ;;
    esac
    bootstrap=$(bootstrap_of "$dir")
    fetch
    setup_java
    if ! tool "$dir" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
        --create --topic "$name" --partitions "$parts" --replication-factor 1 "$@" \
        >"$dir/topic.log" 2>&1; then
        cat "$dir/topic.log" >&2
        die "creating topic $name failed"
    fi
    # The broker learns of the topic from the metadata log a moment later;
    # a producer started now must find every partition with its leader.
    left=100
    while :; do
        n=$(kcat -b "$bootstrap" -L -t "$name" -m 2 2>/dev/null |
            grep -c 'partition [0-9]*, leader 1,' || true)
        [ "$n" -eq "$parts" ] && return 0
        [ "$left" -gt 0 ] || die "topic $name: $n of $parts partitions have a leader after 10 s"
        sleep 0.1
        left=$((left - 1))
    done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
start)
    [ $# -eq 1 ] || usage
    dir=$(abspath "$1")
    if ! start_broker "$dir"; then
        stop_broker "$dir"
        exit 1
    fi
    ;;
stop)
    [ $# -eq 1 ] || usage
    stop_broker "$(abspath "$1")"
    ;;
topic)
    [ $# -ge 3 ] || usage
    d=$(abspath "$1")
    shift
    create_topic "$d" "$@"
    ;;
bootstrap)
    [ $# -eq 1 ] || usage
    bootstrap_of "$(abspath "$1")"
    ;;
fetch)
    [ $# -eq 0 ] || usage
    fetch
    ;;
*) usage ;;
esac
