// One directory of an image as its layers leave it: the layers replayed bottom-up with their whiteouts
// (`.wh.NAME` removes NAME, `.wh..wh..opq` hides what lower layers put in its directory), as overlayfs shows the
// container's root. Kept in memory, for the small directories a volume copy-up reads (a bounded total size).

import { safeTarPath } from './image/tar-reader';
import type { TarEntryType, TarStreamEntry } from './image/tar-reader';

export interface TreeNode {
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** A symlink's target; a hard link's target relative to the directory read ('' when outside it). */
  linkname: string;
  data?: Buffer;
}

/** Where `dir` stands in the image: a directory with its nodes (paths relative to it), or why not. */
export type ImageDir = { nodes: Map<string, TreeNode>; root: TreeNode } | { missing: string };

const under = (p: string, dir: string) => p.startsWith(`${dir}/`);
/** More entries than this are not copied (with the byte bound, what a copy-up may hold in memory). */
const MAX_ENTRIES = 100_000;

/**
 * Replays `layers` (bottom-up, each an entry stream) for the absolute directory `dir`; data beyond `maxBytes`
 * in all gives `{ missing }` with the reason. An ancestor or `dir` itself that is not a directory (a symlink
 * included: it would point into the host when read from here) gives `{ missing }` too.
 */
export async function imageDirTree(
  layers: Iterable<AsyncIterable<TarStreamEntry>> | AsyncIterable<AsyncIterable<TarStreamEntry>>,
  dir: string,
  maxBytes: number,
): Promise<ImageDir> {
  const rel = safeTarPath(dir.replace(/^\/+/, ''));
  if (rel === '.') return { missing: 'the root is not copied' };
  const ancestors = rel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  const nodes = new Map<string, TreeNode>();
  // every path that has (or had) a node below it: a removal looks for children only there (else each entry of a
  // large directory would scan all the others)
  const parents = new Set<string>();
  let bytes = 0;
  const drop = (p: string) => {
    nodes.delete(p);
    if (parents.has(p)) for (const k of [...nodes.keys()]) if (under(k, p)) nodes.delete(k);
  };
  const keep = (p: string, n: TreeNode) => {
    nodes.set(p, n);
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) parents.add(p.slice(0, i));
  };
  for await (const entries of layers) {
    const added = new Set<string>();
    for await (const e of entries) {
      const name = e.name;
      const base = name.slice(name.lastIndexOf('/') + 1);
      const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.';
      if (base === '.wh..wh..opq') {
        for (const k of [...nodes.keys()]) if ((parent === '.' || under(k, parent)) && !added.has(k)) nodes.delete(k);
        continue;
      }
      if (base.startsWith('.wh.')) {
        const gone = parent === '.' ? base.slice(4) : `${parent}/${base.slice(4)}`;
        drop(gone);
        continue;
      }
      if (!(name === rel || under(name, rel) || ancestors.includes(name))) continue;
      if (e.type !== 'directory') drop(name);
      // a hard link names its target by archive path: kept relative to `dir`, or '' when it lies outside
      const linkname = e.type !== 'hardlink' ? e.linkname : under(e.linkname, rel) ? e.linkname.slice(rel.length + 1) : '';
      const node: TreeNode = { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, linkname };
      if (e.type === 'file' && under(name, rel)) {
        bytes += e.size;
        if (bytes > maxBytes) return { missing: `${dir} holds more than ${maxBytes} bytes` };
        node.data = await e.buffer();
      }
      keep(name, node);
      added.add(name);
      if (nodes.size > MAX_ENTRIES) return { missing: `${dir} holds more than ${MAX_ENTRIES} entries` };
    }
  }
  // a layer may leave a directory implied (entries below it, none for it): a root-owned 0755 directory then
  const implied = (a: string) => [...nodes.keys()].some((k) => under(k, a));
  for (const a of ancestors) {
    const n = nodes.get(a);
    if (!n && !implied(a)) return { missing: `the image has no ${dir}` };
    if (n && n.type !== 'directory') return { missing: `/${a} is a ${n.type} in the image, not a directory` };
  }
  const root = nodes.get(rel) ?? { type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0, linkname: '' };
  const inside = new Map<string, TreeNode>();
  for (const [k, n] of nodes) if (under(k, rel)) inside.set(k.slice(rel.length + 1), n);
  return { nodes: inside, root };
}
