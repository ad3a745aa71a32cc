// Docker's volume copy-up: a named volume that is empty when a container mounts it at a directory of its image
// gets that directory's content, owners, modes and times, so an image's data directory (owned by the image's
// user, with default files in it) works on a fresh volume as it does in the image. Read from the layers in
// containerd's content store (image-layers.ts), built beside the volume and moved in (a running container of
// another cell may already mount it).

import fs from 'node:fs';
import path from 'node:path';
import type { ContainerdClient } from './grpc/containerd-client';
import { type ImageDir, type TreeNode, imageDirTree } from './image-dir-tree';
import { imageLayers } from './image-layers';

/** More than this in the image's directory is not copied (the volume stays empty, as before copy-up existed). */
export const COPY_UP_MAX_BYTES = 64 * 1024 * 1024;

/** `dir` of the image `manifestDigest` (or why it is not copied). */
export async function readImageDir(client: ContainerdClient, ns: string, manifestDigest: string, dir: string): Promise<ImageDir> {
  return imageDirTree(await imageLayers(client, ns, manifestDigest), dir, COPY_UP_MAX_BYTES);
}

/** True when `dir` exists and holds nothing: the only volume a copy-up writes into. */
export function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/** Writes `tree` into the private directory `into`: hard links after everything else (their file may sort later). */
function writeTree(tree: { nodes: Map<string, TreeNode> }, into: string): string[] {
  const byDepth = (a: string, b: string) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1);
  const keys = [...tree.nodes.keys()].sort(byDepth);
  const order = [
    ...keys.filter((k) => tree.nodes.get(k)!.type !== 'hardlink'),
    ...keys.filter((k) => tree.nodes.get(k)!.type === 'hardlink'),
  ];
  const written = new Set<string>();
  for (const rel of order) {
    const n = tree.nodes.get(rel)!;
    const target = path.join(into, rel);
    // only under a directory made here: never through a symlink the tree itself holds
    const parent = path.dirname(rel);
    if (parent !== '.' && (!written.has(parent) || tree.nodes.get(parent)!.type !== 'directory')) continue;
    if (n.type === 'directory') {
      fs.mkdirSync(target, { mode: 0o700 });
      fs.lchownSync(target, n.uid, n.gid);
      fs.chmodSync(target, n.mode & 0o7777);
    } else if (n.type === 'file') {
      const fd = fs.openSync(target, 'wx', 0o600);
      try {
        fs.writeSync(fd, n.data ?? Buffer.alloc(0));
        fs.fchownSync(fd, n.uid, n.gid);
        fs.fchmodSync(fd, n.mode & 0o7777); // after the chown, which clears setuid and setgid
      } finally {
        fs.closeSync(fd);
      }
    } else if (n.type === 'symlink') {
      fs.symlinkSync(n.linkname, target);
      fs.lchownSync(target, n.uid, n.gid);
    } else if (n.type === 'hardlink') {
      if (!written.has(n.linkname) || tree.nodes.get(n.linkname)!.type !== 'file') continue;
      fs.linkSync(path.join(into, n.linkname), target);
    } else continue;
    written.add(rel);
  }
  // times last, deepest first: writing into a directory moves its mtime
  const done = [...written].sort(byDepth).reverse();
  for (const rel of done) {
    const t = tree.nodes.get(rel)!.mtime;
    fs.lutimesSync(path.join(into, rel), t, t);
  }
  return done;
}

/**
 * Copies `tree` into `dest` (the volume's directory, empty): directories, files, symlinks and hard links within
 * the tree, each with the image's owner, mode and time, and `dest` takes the image directory's. Device nodes and
 * FIFOs are left out. The copy is made in a private directory beside `dest` (containers see only `dest`) and its
 * top-level entries renamed in, so a container of another cell that mounts the volume meanwhile can neither
 * redirect a write nor see a half copy; if `dest` got anything meanwhile, nothing is moved. Returns how many
 * entries were copied.
 */
export function copyUp(tree: { nodes: Map<string, TreeNode>; root: TreeNode }, dest: string): number {
  const staging = fs.mkdtempSync(path.join(path.dirname(dest), `.copy-up-${path.basename(dest)}-`));
  try {
    const written = writeTree(tree, staging);
    const st = fs.lstatSync(dest);
    if (!st.isDirectory() || !isEmptyDir(dest)) return 0;
    let moved = 0;
    for (const e of fs.readdirSync(staging)) {
      try {
        fs.lstatSync(path.join(dest, e));
        continue; // made meanwhile by another: theirs stays
      } catch {
        // free
      }
      try {
        fs.renameSync(path.join(staging, e), path.join(dest, e));
        moved++;
      } catch (err) {
        if (!['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    }
    if (moved === 0 && written.length > 0) return 0;
    fs.chownSync(dest, tree.root.uid, tree.root.gid);
    fs.chmodSync(dest, tree.root.mode & 0o7777);
    fs.utimesSync(dest, tree.root.mtime, tree.root.mtime);
    return written.length;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
