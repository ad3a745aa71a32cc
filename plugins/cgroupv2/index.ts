// The cgroupv2 plugin (slot `cgroups`): the kukeon cgroup tree <mount>/<root>/<realm>/<space>/<stack>/<cell>/ on
// the host's cgroup2 mount, limits at every level, containers placed through the OCI spec, stats for `get -o
// wide`, cleanup of runc's v1 directories on hybrid hosts, `cgroups.diagnose` for `kuke doctor` and `cgroups.oom`
// (a container's OOM kill count) for the supervisor.

import fs from 'node:fs';
import { PluginSkip, definePlugin } from '../../sdk';
import type { Plugin } from '../../sdk';
import { nodeCgroupSys } from './cgroup-sys';
import type { CgroupSys } from './cgroup-sys';
import { diagnose } from './diagnose';
import { detectLayout } from './layout';
import { cellRel, containerLeaf } from './naming';
import { readOomKills } from './oom';
import { tapCgroups } from './taps';
import { CgroupTree } from './tree';

export interface CgroupConfig {
  /** Top directory of kukeon's tree in every hierarchy. */
  root: string;
}

/** What tests replace: the system calls (a fake cgroupfs in a temp dir) and the mount table. */
export interface CgroupDeps {
  sys?: CgroupSys;
  mountinfo?: () => string;
}

export function cgroupv2Plugin(deps: CgroupDeps = {}): Plugin<CgroupConfig> {
  const sys = deps.sys ?? nodeCgroupSys;
  return definePlugin<CgroupConfig>({
    name: 'cgroupv2',
    version: '0.1.0',
    slot: 'cgroups',
    requires: ['store'],
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        root: {
          type: 'string',
          default: 'kukeon',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
          description: "top cgroup of kukeon's tree (one directory name) in the cgroup2 mount and, on hybrid hosts, in each v1 hierarchy",
          'x-env': 'KUKEON_CGROUP_ROOT',
        },
      },
    },
    apply(host, config) {
      // Reading the mount table is all apply does: no cgroup is made until a resource needs it.
      const layout = detectLayout(deps.mountinfo ? deps.mountinfo() : fs.readFileSync('/proc/self/mountinfo', 'utf8'));
      if (!layout.unified) throw new PluginSkip('no cgroup2 mount in /proc/self/mountinfo (a cgroup v1 only host)');
      if (!sys.writable(layout.unified))
        throw new PluginSkip(`the cgroup2 mount ${layout.unified} is not writable by this user (kukeon manages cgroups as root)`);
      const tree = new CgroupTree(layout, config.root, sys);
      tapCgroups(host, tree);
      host.services.provide('cgroups.diagnose', { diagnose: async () => diagnose(tree) });
      host.services.provide('cgroups.oom', {
        oomKills: (cellPath, container, isRoot, cgroupParent) =>
          readOomKills(tree, cellRel(tree.root, cellPath, cgroupParent, containerLeaf(cellPath[3], container, isRoot))),
      });
    },
  });
}

export default cgroupv2Plugin();
