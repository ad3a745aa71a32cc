#!/bin/sh
# The scenario, run in the guest once containerd is up: real manifests through `kuke apply`, then the kernel's
# own counters read from the cgroup files. Every result is a "KT <key> <value>" line on the serial console; the
# host-side test (test/vm-cgroupv2.test.ts) parses and asserts them, so this script only reports.
M=/kt/manifests
CG=/sys/fs/cgroup/kukeon
RUN=/opt/kukeon
# In-process: the guest runs no kukeond (starting one more Node process costs seconds under TCG), and without the
# daemon kuke refuses to fall back silently.
export KUKEON_NO_DAEMON=true
kt() { echo "KT $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
oneline() { tr '\n' ' ' < "$1"; }

# step NAME CMD...: runs CMD, reports its exit code and duration, and its output when it failed.
step() {
  name=$1
  shift
  t0=$(now)
  "$@" > /tmp/step.out 2>&1
  rc=$?
  kt "step $name rc=$rc start=$t0 end=$(now)"
  [ $rc -eq 0 ] || sed "s/^/KT-OUT $name: /" /tmp/step.out
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
atleast() { [ -f "$1" ] && [ "$(cat "$1")" -ge "$2" ]; }
has() { grep -q "$2" "$1" 2>/dev/null; }

step create-realm kuke create realm vm
step image-load kuke image load /kt/busybox-oci.tar --realm vm
step apply-limits kuke apply -f $M/limits.yaml

# 1. memory.max on a cell: its workload is OOM-killed. The container's own cgroup empties when it has exited.
wait_for 90 has $CG/vm/mem/s/hog/memory.events 'oom_kill [1-9]'
wait_for 30 has $CG/vm/mem/s/hog/hog/cgroup.events 'populated 0'
kt "oom.memory.max $(cat $CG/vm/mem/s/hog/memory.max)"
kt "oom.memory.events $(oneline $CG/vm/mem/s/hog/memory.events)"

# 2. pids.max on a stack caps the processes of all its cells together: the first cell holds 8, the second
#    starts (its root and shell fit) and forks until the stack is full. Meanwhile two read-only commands run
#    beside the apply (the guest has two CPUs and each Node start costs seconds here): kukeon's view of the
#    OOM-killed container, and doctor.
wait_for 60 atleast $CG/vm/pids/capped/a/pids.current 8
kt "pids.a.current $(cat $CG/vm/pids/capped/a/pids.current)"
(kuke get container hog --cell hog --realm vm --space mem --stack s -o json > /tmp/hog.json 2> /tmp/hog.err; echo $? > /tmp/hog.rc) &
reader=$!
(kuke doctor -o json > /tmp/doctor.json 2> /tmp/doctor.err; echo $? > /tmp/doctor.rc) &
doctor=$!
rm -f /tmp/pids.peak
touch /tmp/sampling
(peak=0; while [ -f /tmp/sampling ]; do c=$(cat $CG/vm/pids/capped/pids.current); [ "$c" -gt $peak ] && peak=$c && echo $peak > /tmp/pids.peak; usleep 20000; done) &
sampler=$!
step apply-pids-b kuke apply -f $M/pids-b.yaml
wait_for 60 has $RUN/vm/pids/capped/b/logs/b.log "can't fork"
rm -f /tmp/sampling
wait $sampler
kt "pids.max $(cat $CG/vm/pids/capped/pids.max)"
kt "pids.peak $(cat /tmp/pids.peak 2>/dev/null || echo none)"
kt "pids.a.after $(cat $CG/vm/pids/capped/a/pids.current)"
kt "pids.b.cell.max $(cat $CG/vm/pids/capped/b/pids.max)"
# a 6.1 kernel counts a refused fork in the cgroup of the process that forked (the container's own)
kt "pids.b.events $(oneline $CG/vm/pids/capped/b/b/pids.events)"
# newer kernels count it at the cgroup whose limit refused the fork
kt "pids.events $(oneline $CG/vm/pids/capped/pids.events)"
kt "pids.b.forked $(grep -c '^forked' $RUN/vm/pids/capped/b/logs/b.log)"
kt "pids.b.log $(oneline $RUN/vm/pids/capped/b/logs/b.log)"

# 3. cpu.max on a space throttles its cells (the spinning cell has run since apply-limits).
t0=$(now)
c0=$(oneline $CG/vm/cpu/cpu.stat)
sleep 3
kt "cpu.window start=$t0 end=$(now)"
kt "cpu.stat.before $c0"
kt "cpu.max $(cat $CG/vm/cpu/cpu.max)"
kt "cpu.stat $(oneline $CG/vm/cpu/cpu.stat)"

wait $reader $doctor
kt "get rc=$(cat /tmp/hog.rc)"
sed 's/^/KT-OUT get: /' /tmp/hog.err
kt "json oom.container $(tr -d '\n' < /tmp/hog.json)"
kt "doctor rc=$(cat /tmp/doctor.rc)"
sed 's/^/KT-OUT doctor: /' /tmp/doctor.err
kt "json doctor $(tr -d '\n' < /tmp/doctor.json)"

# 4. delete leaves no cgroup behind (containerd itself makes none here).
kt "cgroups.before $(find /sys/fs/cgroup/kukeon -mindepth 1 -type d | wc -l)"
step delete-realm kuke delete realm vm --cascade
kt "cgroups.left $(find /sys/fs/cgroup -mindepth 1 -type d | tr '\n' ' ')"
kt "state.left $(ls $RUN 2>/dev/null | tr '\n' ' ')"
kt "done at $(now)"
