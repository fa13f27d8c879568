#!/usr/bin/env bash
# thas-tui's single-node Slurm 22.05 test cluster (Debian 12): what the Slurm tests and
# benchmarks/bench_slurm.py run on, and what a new user starts to see a run go through Slurm.
# Based on the tested recipe in the project's shared notes (slurm/start-single-node.sh).
#
#   scripts/slurm-test-cluster.sh                  install if needed; start munged, slurmctld, slurmd; wait for idle
#   scripts/slurm-test-cluster.sh start            the same
#   scripts/slurm-test-cluster.sh --with-slurmdbd  same, plus MariaDB + slurmdbd so plain `sacct` works
#   scripts/slurm-test-cluster.sh status           exit 0 if the cluster answers, 1 if not
#   scripts/slurm-test-cluster.sh stop             cancel all jobs, stop the daemons this script started
#
# Exit codes: 0 up (or stopped), 1 failed, 2 usage, 77 cannot run here (not root / no apt-get).
# Idempotent: when the cluster already answers (in the requested mode) it says so and exits 0.
# No systemd and no cgroups needed: proctrack/linuxproc + task/none.
# Without --with-slurmdbd, finished jobs are read with `sacct -c` (jobcomp/filetxt).
# Environment: SLURM_WITH_SLURMDBD=1 (same as the flag), SLURM_PARTITION (debug),
#              SLURM_MIN_JOB_AGE (3600: seconds a finished job stays visible to scontrol/squeue).
set -uo pipefail

CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
MARKER="# Written by start-single-node.sh (single-node test cluster); rewritten on every start."
# (the shared recipe's marker, kept: either script may then restart a cluster the other wrote)
STATE_FILE=/run/slurm-single-node.started   # helper daemons this script started (munged, mariadbd)
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
DBD_PID=/run/slurmdbd.pid
MUNGE_PID=/run/munge/munged.pid
MARIADB_PID=/run/mysqld/mysqld.pid
LOG_DIR=/var/log/slurm
PARTITION=${SLURM_PARTITION:-debug}
MIN_JOB_AGE=${SLURM_MIN_JOB_AGE:-3600}
WITH_DBD=${SLURM_WITH_SLURMDBD:-0}
SELF=$(basename "$0")

say() { printf '%s: %s\n' "$SELF" "$*"; }
die() { printf '%s: ERROR: %s\n' "$SELF" "$*" >&2; exit 1; }

ACTION=start
for arg in "$@"; do
  case "$arg" in
    start|--start) ACTION=start ;;
    stop|--stop) ACTION=stop ;;
    status|--status) ACTION=status ;;
    --with-slurmdbd) WITH_DBD=1 ;;
    *) echo "usage: $SELF [--start|--status|--stop] [--with-slurmdbd]" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "$SELF: skipped: must run as root (installs packages, starts daemons)"; exit 77; }
command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 \
  || { echo "$SELF: skipped: needs a Debian system with apt-get"; exit 77; }

# one caller at a time (parallel test workers may all call this)
exec 9>/run/slurm-single-node.lock
flock -w 120 9 || die "another start/stop still holds /run/slurm-single-node.lock"

NODE=$(hostname -s)
if [ "$WITH_DBD" = 1 ]; then WANT_ACCT=accounting_storage/slurmdbd; else WANT_ACCT=accounting_storage/none; fi

cluster_up() {   # controller answers and our node is usable
  command -v scontrol >/dev/null 2>&1 || return 1
  timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
  local st
  st=$(timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1)
  case "$st" in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac
}

running_acct() { timeout 10 scontrol show config 2>/dev/null | awk '$1=="AccountingStorageType" {print $3}'; }

pid_of() {       # pid from a pid file, if that process is alive and has the expected name
  local file=$1 name=$2 pid
  [ -r "$file" ] || return 1
  pid=$({ tr -dc '0-9' <"$file"; } 2>/dev/null)
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 1   # zombie: already gone
  echo "$pid"
}

stop_daemon() {  # TERM by pid, KILL after 20 s
  local file=$1 name=$2 pid i
  pid=$(pid_of "$file" "$name") || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 200); do pid_of "$file" "$name" >/dev/null || { say "stopped $name (pid $pid)"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; say "killed $name (pid $pid)"
}

started_here() { grep -qx "$1" "$STATE_FILE" 2>/dev/null; }

# exec a daemon without any inherited descriptor above 2 (the lock, a caller's pipes):
# a daemon holding a caller's pipe would keep e.g. subprocess.run(capture_output=True) waiting
daemon_exec() {
  local n
  for n in $(ls "/proc/$BASHPID/fd"); do
    [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null
  done
  exec "$@"
}

stop_how() {
  local list="" p
  p=$(pid_of "$SLURMD_PID" slurmd) && list="$list $p (slurmd)"
  p=$(pid_of "$CTLD_PID" slurmctld) && list="$list $p (slurmctld)"
  p=$(pid_of "$DBD_PID" slurmdbd) && list="$list $p (slurmdbd)"
  started_here mariadbd && p=$(pid_of "$MARIADB_PID" mariadbd) && list="$list $p (mariadbd)"
  started_here munged && p=$(pid_of "$MUNGE_PID" munged) && list="$list $p (munged)"
  say "to stop: $0 --stop   (cancels all jobs, then kills by pid, in this order:$list)"
}

do_stop() {
  if timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; then
    local ids i
    ids=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [ -n "${ids// /}" ]; then
      say "cancelling jobs: $ids"
      # shellcheck disable=SC2086
      scancel $ids 2>/dev/null
      for i in $(seq 1 60); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.5; done
    fi
  fi
  stop_daemon "$SLURMD_PID" slurmd
  stop_daemon "$CTLD_PID" slurmctld
  stop_daemon "$DBD_PID" slurmdbd
  started_here mariadbd && stop_daemon "$MARIADB_PID" mariadbd
  started_here munged && stop_daemon "$MUNGE_PID" munged
  rm -f "$STATE_FILE"
  say "single-node Slurm stopped"
}

case "$ACTION" in
  stop) do_stop; exit 0 ;;
  status) if cluster_up; then sinfo; squeue; exit 0; else say "not running"; exit 1; fi ;;
esac

if cluster_up; then
  if [ "$(running_acct)" = "$WANT_ACCT" ]; then
    say "already running: $(sinfo -h -o '%P %D %T %N' | head -1), $(slurmctld -V 2>/dev/null), $WANT_ACCT"
    stop_how
    exit 0
  fi
  head -1 "$CONF" 2>/dev/null | grep -qxF "$MARKER" || die "a cluster not started by this script is running"
  say "running with $(running_acct), $WANT_ACCT wanted: restarting"
  do_stop
fi

T0=$(date +%s.%N)

# 1. packages (no recommends; keep postinst scripts from starting services)
pkgs="munge slurm-client slurmctld slurmd"
[ "$WITH_DBD" = 1 ] && pkgs="$pkgs slurmdbd mariadb-server"
need=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
  say "installing:$need"
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  { apt-get install -y -q --no-install-recommends $need >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $need >/dev/null; }; }
  rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" -eq 0 ] || die "apt-get install$need failed"
fi
VERSION=$(slurmctld -V 2>/dev/null)
case "$VERSION" in *" 22.05."*) ;; *) say "warning: tested with Slurm 22.05, found '$VERSION'" ;; esac

# 2. config files written by someone else are left alone
for f in "$CONF" "$DBD_CONF"; do
  if [ -e "$f" ] && ! head -1 "$f" | grep -qxF "$MARKER"; then
    die "$f exists and was not written by this script; not overwriting it"
  fi
done

# 3. leftovers of an earlier run that do not answer: stop them, then start clean
if pid_of "$CTLD_PID" slurmctld >/dev/null || pid_of "$SLURMD_PID" slurmd >/dev/null \
   || pid_of "$DBD_PID" slurmdbd >/dev/null; then
  say "found slurm daemons that do not answer as a cluster; restarting them"
  stop_daemon "$SLURMD_PID" slurmd; stop_daemon "$CTLD_PID" slurmctld; stop_daemon "$DBD_PID" slurmdbd
fi
install -d -m 0755 /var/spool/slurmctld /var/spool/slurmd "$LOG_DIR"

# 4. munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
    || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
fi
if ! { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }; then
  install -d -o munge -g munge -m 0755 /run/munge
  ( daemon_exec runuser -u munge -- /usr/sbin/munged ) </dev/null >/dev/null 2>&1 \
    || ( daemon_exec runuser -u munge -- /usr/sbin/munged --force ) </dev/null >/dev/null 2>&1 \
    || die "munged did not start (see /var/log/munge/munged.log)"
  echo munged >>"$STATE_FILE"
  for i in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || die "munge does not answer"
fi

# 5. optional accounting database: MariaDB on the loopback, slurmdbd in front of it
if [ "$WITH_DBD" = 1 ]; then
  if ! mysqladmin ping >/dev/null 2>&1; then
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    ( daemon_exec setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 ) \
      </dev/null >>"$LOG_DIR/mariadb.log" 2>&1 &
    echo mariadbd >>"$STATE_FILE"
    for i in $(seq 1 300); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.1; done
    mysqladmin ping >/dev/null 2>&1 || die "MariaDB did not start; see $LOG_DIR/mariadb.log"
  fi
  DB_PASS=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE OR REPLACE USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" || die "could not create the accounting database"
  umask 077
  cat >"$DBD_CONF" <<EOF
$MARKER
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$DBD_PID
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASS
EOF
  umask 022
  chmod 0600 "$DBD_CONF"
fi

# 6. slurm.conf for this node: CPUs from nproc, RealMemory 1 GiB under what is available now
CPUS=$(nproc)
AVAIL_MB=$(awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo)
REAL_MB=$(( AVAIL_MB - 1024 )); [ "$REAL_MB" -lt 256 ] && REAL_MB=256
DEF_MEM=$(( REAL_MB / CPUS ))       # a job without --mem gets its CPU's share, not the whole node
if [ "$WITH_DBD" = 1 ]; then
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
else
  ACCT="AccountingStorageType=accounting_storage/none"
fi
cat >"$CONF" <<EOF
$MARKER
ClusterName=single
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# no cgroups, no systemd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
$ACCT
# finished jobs: one line each, read with 'sacct -c'
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$DEF_MEM
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
EnforcePartLimits=ALL
JobRequeue=0
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
KillWait=5
InactiveLimit=0
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$REAL_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# 7. daemons (each forks into the background and writes its pid file)
if [ "$WITH_DBD" = 1 ]; then
  ( daemon_exec /usr/sbin/slurmdbd ) </dev/null >/dev/null 2>&1 || die "slurmdbd did not start; see $LOG_DIR/slurmdbd.log"
  for i in $(seq 1 300); do timeout 5 sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.1; done
  timeout 5 sacctmgr -n list cluster >/dev/null 2>&1 || die "slurmdbd does not answer; see $LOG_DIR/slurmdbd.log"
fi
( daemon_exec /usr/sbin/slurmctld ) </dev/null >/dev/null 2>&1 || die "slurmctld did not start; see $LOG_DIR/slurmctld.log"
( daemon_exec /usr/sbin/slurmd ) </dev/null >/dev/null 2>&1 || die "slurmd did not start; see $LOG_DIR/slurmd.log"

for i in $(seq 1 300); do
  cluster_up && break
  if [ $(( i % 50 )) -eq 0 ]; then   # a node left DOWN/DRAIN by an earlier run
    scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1
  fi
  sleep 0.1
done
if ! cluster_up; then
  tail -n 5 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2
  die "node $NODE did not become idle within 30 s"
fi
T1=$(date +%s.%N)
say "up in $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s: $VERSION, node $NODE ($CPUS CPUs, ${REAL_MB} MB), partition $PARTITION, $WANT_ACCT"
if [ "$WITH_DBD" = 1 ]; then
  say "finished jobs: sacct (slurmdbd); logs in $LOG_DIR"
else
  say "finished jobs: sacct -c (reads $LOG_DIR/jobcomp.log); plain sacct needs --with-slurmdbd; logs in $LOG_DIR"
fi
stop_how
exit 0
