// The kukeon cgroup tree (the storage layout's "cgroup tree"): <root>/<realm>/<space>/<stack>/<cell>/, with
// <cell>_root/ for the cell's root container and <container>/ for every other one. Names are kukeon names
// ([a-z0-9-]), so `<cell>_root` never collides with a container. A cell with a `cgroupParent` (a kubelet's pod
// cgroup) has its cgroup there instead, named by its whole path: <parent>/<realm>_<space>_<stack>_<cell>/.

/** Relative to the mount, without a leading slash: `kukeon/main/blog/wp/web` (path: realm ... cell). */
export function cgroupRel(root: string, path: readonly string[], leaf?: string): string {
  return [root, ...path, ...(leaf === undefined ? [] : [leaf])].join('/');
}

/** The leaf of a container in its cell's cgroup: `<cell>_root` for the root (declared or synthesized). */
export function containerLeaf(cell: string, container: string | undefined, isRoot: boolean): string {
  return isRoot || container === undefined ? `${cell}_root` : container;
}

/** A cell's cgroup, or a leaf in it: below its stack's, or below `cgroupParent` when the cell names one. */
export function cellRel(root: string, path: readonly string[], cgroupParent: string | undefined, leaf?: string): string {
  if (!cgroupParent) return cgroupRel(root, path, leaf);
  return [...cgroupParent.split('/').filter(Boolean), path.join('_'), ...(leaf === undefined ? [] : [leaf])].join('/');
}
