#!/bin/sh
# The systemd guest's scenario, run by kt-scenario.service at each boot (the phase file on the disk says which).
#  Boot 1: nothing runs containerd; `kuke init` starts the kukeon-managed one as kukeon-containerd.service and
#    kukeond as the system realm's container; containerd is SIGKILLed and systemd restarts it, the workload's shim
#    keeps it running, and kukeond supervises through the new containerd; then a real reboot (systemctl reboot).
#  Boot 2: systemd starts kukeon-containerd.service at boot, containerd's restart monitor starts kukeond, and
#    kukeond runs the cell again; `kuke uninstall` takes it all down; `kuke init --systemd` runs kukeond as
#    kukeond.service, which systemd restarts after a SIGKILL and `kuke daemon restart` restarts; then poweroff.
# Every result is a "KT <key> <value>" line on the serial console for test/vm-systemd.test.ts; this only reports.
PHASE=/var/lib/kt/phase
SCOPE="--realm default --space default --stack default"
# each Node start costs seconds under emulation (more while the host is busy): init waits longer than its 30 s
kt() { echo "KT $*"; }
now() { cut -d' ' -f1 /proc/uptime; }

# step NAME CMD...: runs CMD, reports its exit code, and its output as KT-OUT lines.
step() {
  name=$1
  shift
  t0=$(now)
  "$@" > /tmp/step.out 2>&1
  rc=$?
  kt "step $name rc=$rc start=$t0 end=$(now)"
  sed "s/^/KT-OUT $name: /" /tmp/step.out
  return $rc
}

# wait_for SECONDS CONDITION...: polls CONDITION every 0.2 s; reports when it gave up.
wait_for() {
  limit=$(($1 * 5))
  shift
  i=0
  until "$@"; do
    i=$((i + 1))
    if [ $i -ge $limit ]; then kt "timeout waiting for: $*"; return 1; fi
    usleep 200000
  done
}
main_pid() { systemctl show -p MainPID --value "$1"; }
unit_state() { echo "$(systemctl is-active "$1") $(systemctl is-enabled "$1" 2>/dev/null || echo absent)"; }
web_json() { kuke get container w --cell web $SCOPE -o json 2>/dev/null | tr -d '\n'; }
# the workload's pid while it is Ready, else nothing
web_pid() {
  j=$(web_json)
  echo "$j" | grep -q '"state": *"Ready"' && echo "$j" | grep -o '"pid": *[0-9]*' | head -1 | grep -o '[0-9]*$'
}
web_pid_not() { p=$(web_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
answers() { kuke version > /tmp/version.out 2>&1 && grep -q Daemon /tmp/version.out; }
restarted() { p=$(main_pid "$1"); [ "$p" != 0 ] && [ "$p" != "$2" ]; }
# kill -9 of a pid found above; never of 0 or nothing (kill 0 would end this scenario's own process group)
kill9() { case "$1" in '' | 0 | *[!0-9]*) kt "kill9: no pid to kill ($1)" ;; *) kill -9 "$1" ;; esac; }
containerd_up() { restarted kukeon-containerd.service "$1" && [ -S /run/containerd/containerd.sock ]; }
diagnose() {
  journalctl --no-pager -n 40 -u kukeon-containerd.service -u kukeond.service 2>&1 | sed 's/^/KT-JOURNAL /'
  cat /opt/kukeon/kukeon-system/kukeon/kukeon/kukeond/logs/*.log 2>/dev/null | tail -20 | sed 's/^/KT-KUKEOND /'
}

mkdir -p /var/lib/kt
phase=$(cat $PHASE 2>/dev/null || echo 1)
kt "phase $phase boot_id $(cat /proc/sys/kernel/random/boot_id) pid1 $(cat /proc/1/comm) at $(now)"
kt "system $(systemctl is-system-running)"
# a hung step still ends the boot before the host-side deadline
(sleep 500; kt "watchdog: phase $phase did not finish"; diagnose; echo o > /proc/sysrq-trigger) &

if [ "$phase" = 1 ]; then
  kt "containerd.before $([ -S /run/containerd/containerd.sock ] && echo socket || echo none)"
  step init kuke init --wait-timeout 180
  kt "unit.containerd $(unit_state kukeon-containerd.service)"
  cpid=$(main_pid kukeon-containerd.service)
  kt "containerd.pid $cpid"
  step image-load kuke image load /kt/busybox-oci.tar --realm default
  step apply kuke apply -f /kt/cell.yaml
  wait_for 60 web_pid_not none
  w1=$(web_pid)
  kt "web.pid.before $w1"
  dpid=$(cat /run/kukeon/kukeond.pid)
  kt "kukeond.pid.before $dpid"

  # containerd crashes: systemd starts it again (RestartSec=5); the shims keep the containers running
  t0=$(now)
  kill9 "$cpid"
  wait_for 60 containerd_up "$cpid"
  kt "containerd.restarted old=$cpid new=$(main_pid kukeon-containerd.service) start=$t0 end=$(now) nrestarts=$(systemctl show -p NRestarts --value kukeon-containerd.service)"
  wait_for 30 answers
  kt "web.pid.after-containerd $(web_pid)"
  kt "kukeond.pid.after-containerd $(cat /run/kukeon/kukeond.pid)"

  # kukeond watches the new containerd's exit events: a killed workload comes back
  kill9 "$w1"
  wait_for 60 web_pid_not "$w1"
  kt "json web.after-kill $(web_json)"
  echo 2 > $PHASE
  sync
  kt "rebooting at $(now)"
  systemctl reboot
  exit 0
fi

# boot 2: systemd started kukeon-containerd at boot (enabled by init), its restart monitor starts kukeond
wait_for 120 answers || diagnose
kt "unit.containerd.at-boot $(unit_state kukeon-containerd.service)"
wait_for 120 web_pid_not none || diagnose
kt "json web.after-reboot $(web_json)"
step status-after-reboot kuke status

step uninstall kuke uninstall -y
kt "after-uninstall unit=$([ -e /etc/systemd/system/kukeon-containerd.service ] && echo present || echo absent) containerd=$(pidof containerd || echo none) socket=$([ -e /run/kukeon/kukeond.sock ] && echo present || echo absent) runpath=$([ -e /opt/kukeon ] && echo present || echo absent)"

step init-systemd kuke init --systemd --wait-timeout 180
kt "unit.kukeond $(unit_state kukeond.service)"
kt "unit.containerd.systemd $(unit_state kukeon-containerd.service)"
dpid=$(main_pid kukeond.service)
t0=$(now)
kill9 "$dpid"
wait_for 30 restarted kukeond.service "$dpid"
wait_for 30 answers || diagnose
kt "kukeond.restarted old=$dpid new=$(main_pid kukeond.service) start=$t0 end=$(now)"
# kuke daemon drives the unit, not the (removed) system cell
dpid=$(main_pid kukeond.service)
step daemon-restart kuke daemon restart --wait-timeout 180
kt "kukeond.daemon-restart old=$dpid new=$(main_pid kukeond.service)"
step init-systemd-again kuke init --systemd --wait-timeout 180
kt "done at $(now)"
sync
systemctl poweroff
