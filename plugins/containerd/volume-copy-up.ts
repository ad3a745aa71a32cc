// Docker's volume copy-up: a named volume that is empty when a container mounts it at a directory of its image
// gets that directory's content, owners, modes and times, so an image's data directory (owned by the image's
// user, with default files in it) works on a fresh volume as it does in the image. Read from the layers in
// containerd's content store (as the /etc files are, so kukeond in its container can), written into the volume
// in place (a running container of another cell may already mount it).

import fs from 'node:fs';
import path from 'node:path';
import type { ContainerdClient } from './grpc/containerd-client';
import { archiveBytes } from './image/import-oci-archive';
import { type TarStreamEntry, readTarStream } from './image/tar-reader';
import { type ImageDir, type TreeNode, imageDirTree } from './image-dir-tree';

/** More than this in the image's directory is not copied (the volume stays empty, as before copy-up existed). */
export const COPY_UP_MAX_BYTES = 64 * 1024 * 1024;

/** The image's layers, bottom-up, each as its tar entries. */
async function* layerEntries(client: ContainerdClient, ns: string, manifestDigest: string): AsyncGenerator<AsyncIterable<TarStreamEntry>> {
  const manifest = await client.content.readJson<{ layers?: { mediaType: string; digest: string }[] }>(ns, manifestDigest);
  for (const layer of manifest.layers ?? []) {
    yield readTarStream(archiveBytes(client.content.readChunks(ns, layer.digest)));
  }
}

/** `dir` of the image `manifestDigest` (or why it is not copied). */
export function readImageDir(client: ContainerdClient, ns: string, manifestDigest: string, dir: string): Promise<ImageDir> {
  return imageDirTree(layerEntries(client, ns, manifestDigest), dir, COPY_UP_MAX_BYTES);
}

/** True when `dir` exists and holds nothing: the only volume a copy-up writes into. */
export function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

const isSymlink = (p: string) => {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * Writes `tree` into `dest` (an empty directory): directories, files, symlinks and hard links within the tree,
 * each with the image's owner, mode and time; `dest` takes the image directory's. Device nodes and FIFOs are
 * left out. Nothing is written through a symlink: a path whose parent is not a directory made here is skipped.
 * Returns how many entries were written.
 */
export function copyUp(tree: { nodes: Map<string, TreeNode>; root: TreeNode }, dest: string): number {
  const order = [...tree.nodes.keys()].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  const written: string[] = [];
  const parentIsDir = (rel: string) => {
    const parent = path.dirname(path.join(dest, rel));
    try {
      const st = fs.lstatSync(parent);
      return st.isDirectory() && !st.isSymbolicLink();
    } catch {
      return false;
    }
  };
  for (const rel of order) {
    const n = tree.nodes.get(rel)!;
    const target = path.join(dest, rel);
    if (!parentIsDir(rel)) continue;
    // another container copying into the same volume at once made it first: theirs stays
    if (fs.existsSync(target) || isSymlink(target)) continue;
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
      // a link to a file of this tree written before it (a tar puts the file first)
      if (!n.linkname || !written.includes(n.linkname) || !fs.lstatSync(path.join(dest, n.linkname)).isFile()) continue;
      fs.linkSync(path.join(dest, n.linkname), target);
    } else continue;
    written.push(rel);
  }
  // times last, deepest first: writing into a directory moves its mtime
  for (const rel of [...written].reverse()) {
    const t = tree.nodes.get(rel)!.mtime;
    fs.lutimesSync(path.join(dest, rel), t, t);
  }
  fs.chownSync(dest, tree.root.uid, tree.root.gid);
  fs.chmodSync(dest, tree.root.mode & 0o7777);
  fs.utimesSync(dest, tree.root.mtime, tree.root.mtime);
  return written.length;
}
