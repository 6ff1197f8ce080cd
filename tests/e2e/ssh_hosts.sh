#!/bin/bash
# ssh_hosts.sh - start N throwaway sshd "hosts" on 127.0.0.1 for the ssh
# provider's tests, and stop them again. Not a test itself.
#
#   ssh_hosts.sh start DIR N   -> DIR/key (client key), DIR/ports (one port a
#                                 line), DIR/ssh.yaml (a host pool for skyc
#                                 with every host plus one that refuses)
#   ssh_hosts.sh stop DIR      -> kills the sshds, removes what start made
#                                 outside DIR (/run/sshd, see below)
#
# Each sshd listens on loopback only, accepts only the generated key, and is
# bounded: start waits at most 10 s for the ports, stop kills by pid file.
set -eu

cmd=${1:?usage: ssh_hosts.sh start DIR N | stop DIR}
dir=${2:?DIR}
SSHD=${SSHD:-/usr/sbin/sshd}

# /run/sshd (sshd's privilege separation dir) is made by the first start
# that needs it (marked inside) and removed by the stop that leaves no live
# sshd, so tests running in parallel do not pull it from under each other.
live_sshd() { ps -eo stat=,comm= | awk '$2 == "sshd" && $1 !~ /^Z/' | grep -q .; }

stop() {
    for pf in "$dir"/sshd_*.pid; do
        [ -f "$pf" ] || continue
        pid=$(cat "$pf" 2>/dev/null || true)
        if [ -n "$pid" ]; then
            # end the sessions first (a killed listener leaves them, and the
            # client's ControlPersist master with them, for up to a minute)
            pkill -TERM -P "$pid" 2>/dev/null || true
            kill "$pid" 2>/dev/null || true
            for w in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$pf"
    done
    if [ -f /run/sshd/.skyc-test-made ] && ! live_sshd; then
        rm -f /run/sshd/.skyc-test-made
        rmdir /run/sshd 2>/dev/null || true
    fi
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi

n=${3:?N}
[ -x "$SSHD" ] || { echo "ssh_hosts: $SSHD not found (apt-get install openssh-server)" >&2; exit 1; }
command -v ssh-keygen >/dev/null || { echo "ssh_hosts: ssh-keygen not found" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
if [ ! -d /run/sshd ]; then
    mkdir -p /run/sshd && chmod 755 /run/sshd && touch /run/sshd/.skyc-test-made
fi
ssh-keygen -q -t ed25519 -N '' -f "$dir/key" -C skyc-test </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey" -C skyc-test-host </dev/null
cp "$dir/key.pub" "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
: >"$dir/ports"
user=$(id -un)

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for i in $(seq 1 "$n"); do
    started=0
    for try in $(seq 1 20); do
        port=$(( 20000 + (RANDOM % 12000) ))
        port_free "$port" || continue
        cat >"$dir/sshd_$i.conf" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/hostkey
PidFile $dir/sshd_$i.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
AcceptEnv none
MaxStartups 100:30:200
LogLevel ERROR
EOF
        if "$SSHD" -f "$dir/sshd_$i.conf" -E "$dir/sshd_$i.log"; then
            for w in $(seq 1 100); do
                port_free "$port" || { started=1; break; }
                sleep 0.1
            done
        fi
        [ "$started" = 1 ] && break
    done
    if [ "$started" != 1 ]; then
        echo "ssh_hosts: sshd $i did not start (see $dir/sshd_$i.log)" >&2
        cat "$dir/sshd_$i.log" >&2 2>/dev/null || true
        stop
        exit 1
    fi
    echo "$port" >>"$dir/ports"
done

# A port nothing listens on, for "a host that refuses SSH".
refused=
for try in $(seq 1 50); do
    p=$(( 40000 + (RANDOM % 20000) ))
    if port_free "$p"; then refused=$p; break; fi
done

{
    echo "connect_timeout: 5"
    echo "hosts:"
    i=0
    while read -r port; do
        i=$((i + 1))
        cat <<EOF
  - name: host$i
    host: 127.0.0.1
    port: $port
    user: $user
    identity_file: $dir/key
    workdir_root: $dir/remote$i
    labels: {cpus: 4, gpus: $(( i == 1 ? 1 : 0 )), accelerator: T4, region: lab}
EOF
    done <"$dir/ports"
    cat <<EOF
  - name: refuses
    host: 127.0.0.1
    port: $refused
    user: $user
    identity_file: $dir/key
    labels: {cpus: 4, region: down}
EOF
} >"$dir/ssh.yaml"
