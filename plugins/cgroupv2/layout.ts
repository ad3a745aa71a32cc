// Where the cgroup hierarchies are, read from /proc/self/mountinfo rather than assumed: pure v2 mounts cgroup2 at
// /sys/fs/cgroup, a hybrid host (systemd's "hybrid", or this kind of CI machine) at /sys/fs/cgroup/unified with
// cpu, memory, pids... bound to v1 hierarchies, and a v1-only host has no cgroup2 at all.

export interface V1Hierarchy {
  mountPoint: string;
  /** The controllers it carries (`cpu`, `cpuacct`, ...), and `name=systemd` for a named hierarchy. */
  controllers: string[];
}

export interface CgroupLayout {
  /** `v2`: cgroup2 only; `hybrid`: cgroup2 beside v1 hierarchies (runc then uses its v1 driver); `v1`: no cgroup2. */
  kind: 'v2' | 'hybrid' | 'v1';
  /** The cgroup2 mount point, when there is one. */
  unified?: string;
  v1: V1Hierarchy[];
}

const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

// Mount options that are not controllers.
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'none', 'clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode']);

/** The layout described by a mountinfo text; the first mount of each mount point wins, as the kernel shows it. */
export function detectLayout(mountinfo: string): CgroupLayout {
  let unified: string | undefined;
  const v1: V1Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = unescapeOctal(line.slice(0, sep).split(' ')[4] ?? '');
    if (!mountPoint || seen.has(mountPoint)) continue;
    seen.add(mountPoint);
    if (fstype === 'cgroup2') {
      unified ??= mountPoint;
      continue;
    }
    const controllers = superOptions.split(',').filter((o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent='));
    v1.push({ mountPoint, controllers });
  }
  const kind = !unified ? 'v1' : v1.length ? 'hybrid' : 'v2';
  return { kind, unified, v1 };
}

// cgroup v2's io controller is v1's blkio.
const V1_NAME: Record<string, string> = { io: 'blkio' };

/** The v1 hierarchy that carries `controller` (a cgroup v2 name), if one is mounted. */
export function v1HierarchyOf(layout: CgroupLayout, controller: string): V1Hierarchy | undefined {
  const name = V1_NAME[controller] ?? controller;
  return layout.v1.find((h) => h.controllers.includes(name));
}
