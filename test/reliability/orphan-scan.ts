// Everything a purged realm may leave behind, looked up in each backend itself (not in kukeon's YAML): containerd
// objects in the realm's namespace, cgroups under kukeon's root in every hierarchy, CNI conflists, IPAM leases and
// cached results, links and iptables rules in the harness's netns, and files of the realm under the run path.
// Each finding is one line naming what and where; none means the purge was complete.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EHarness } from '../e2e/harness';
import { cgroupMounts } from '../e2e/requirements';
import { filesUnder } from './crash-state-checks';

export interface OrphanScope {
  realm: string;
  namespace: string;
  cni: { confDir: string; cacheDir: string; ipamDataDir: string };
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** containerd objects of `namespace`: the namespace itself, containers, tasks, snapshots, leases, images, content. */
async function containerdOrphans(h: E2EHarness, namespace: string): Promise<string[]> {
  const nss = await h.ctr(['namespaces', 'ls', '-q']);
  if (nss.code !== 0) return [`ctr namespaces ls failed: ${nss.stderr.trim()}`];
  if (!lines(nss.stdout).includes(namespace)) return [];
  const out = [`containerd namespace ${namespace}`];
  const lists: [string, string[]][] = [
    ['container', ['containers', 'ls', '-q']],
    ['task', ['tasks', 'ls', '-q']],
    ['snapshot', ['snapshots', 'ls']],
    ['lease', ['leases', 'ls', '-q']],
    ['image', ['images', 'ls', '-q']],
    ['content', ['content', 'ls', '-q']],
  ];
  for (const [what, args] of lists) {
    const r = await h.ctr(['-n', namespace, ...args]);
    if (r.code !== 0) {
      out.push(`ctr ${args.join(' ')} failed: ${r.stderr.trim()}`);
      continue;
    }
    // `snapshots ls` prints a header line
    const items = lines(r.stdout).filter((l) => !/^KEY\s+PARENT\s+KIND/.test(l));
    for (const id of items) out.push(`containerd ${what} ${namespace}/${id.split(/\s+/)[0]}`);
  }
  return out;
}

/** Directories under `<mount>/<cgroupRoot>` in every hierarchy (cgroup2 and each v1 one), and the root itself. */
function cgroupOrphans(cgroupRoot: string): string[] {
  const out: string[] = [];
  for (const m of cgroupMounts()) {
    const root = path.join(m.mountPoint, cgroupRoot);
    const walk = (dir: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      out.push(`cgroup ${dir}`);
      for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
    };
    walk(root);
  }
  return out;
}

/** Every orphan of the purged realm; empty when the purge left nothing. */
export async function orphansAfterPurge(h: E2EHarness, scope: OrphanScope): Promise<string[]> {
  const out = await containerdOrphans(h, scope.namespace);
  out.push(...cgroupOrphans(h.cgroupRoot));
  for (const f of filesUnder(scope.cni.confDir)) out.push(`conflist ${f}`);
  for (const f of filesUnder(scope.cni.ipamDataDir)) out.push(`IPAM lease file ${f}`);
  for (const f of filesUnder(scope.cni.cacheDir)) out.push(`CNI cache entry ${f}`);
  const links = await h.exec('ip', ['-o', 'link', 'show']);
  for (const l of lines(links.stdout)) {
    const name = /^\d+:\s*([^:\s@]+)/.exec(l)?.[1];
    if (name && name !== 'lo') out.push(`link ${name} in netns ${h.netns}`);
  }
  const rules = await h.exec('iptables-save', []);
  for (const l of lines(rules.stdout)) if (/KUKEON/i.test(l)) out.push(`iptables ${l} in netns ${h.netns}`);
  const realmDir = path.join(h.runPath, scope.realm);
  if (fs.existsSync(realmDir)) out.push(...(filesUnder(realmDir).length ? filesUnder(realmDir) : [realmDir]).map((f) => `run path ${f}`));
  // kukeon's own files under run/ that name the realm (a synthesized root's rootfs, a subnet claim)
  for (const f of filesUnder(path.join(h.runPath, 'run'))) {
    if (f.includes(`${path.sep}${scope.realm}${path.sep}`) || path.basename(f).includes(scope.realm)) out.push(`run path ${f}`);
    else if (f.endsWith('.json') || f.endsWith('.yaml')) {
      const text = fs.readFileSync(f, 'utf8');
      if (text.includes(`"${scope.realm}"`) || text.includes(`${scope.realm}/`) || text.includes(`.${scope.realm}.`))
        out.push(`run path ${f} still names realm ${scope.realm}`);
    }
  }
  return out;
}
