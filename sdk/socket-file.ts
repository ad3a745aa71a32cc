// The socket's directory, file and permissions, as Docker and podman do it: the directory is made `2750
// root:<group>` (or `0700` without the group) before the socket is bound, so the moment between bind and chmod
// exposes nothing (upstream kukeon's #918); the socket is `0660 root:<group>` (or `0600`). A stale socket (no
// one accepts) is replaced; a live one belongs to another daemon and is left alone.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { KukeonError } from './errors';

/** The gid of `group` from /etc/group, or undefined when there is no such group. */
export function groupId(group: string, groupFile = '/etc/group'): number | undefined {
  return groupEntries(groupFile).find((g) => g.name === group)?.gid;
}

/** The name of group `gid` from /etc/group, or undefined. */
export function groupName(gid: number, groupFile = '/etc/group'): string | undefined {
  return groupEntries(groupFile).find((g) => g.gid === gid)?.name;
}

function groupEntries(groupFile: string): { name: string; gid: number }[] {
  let text: string;
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch {
    return [];
  }
  const out: { name: string; gid: number }[] = [];
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid !== undefined && /^\d+$/.test(gid)) out.push({ name, gid: Number(gid) });
  }
  return out;
}

/**
 * Creates the socket's directory when missing: `2750 root:<gid>`, or `0700` without a group. An existing one must
 * be ours and writable by no one else, or another user could swap the socket for a link between bind and chmod.
 */
export function prepareSocketDir(socketPath: string, gid: number | undefined): void {
  const dir = path.dirname(socketPath);
  if (fs.existsSync(dir)) {
    const st = fs.statSync(dir);
    const uid = process.getuid?.() ?? 0;
    if (st.uid !== uid || (st.mode & 0o022) !== 0) {
      throw new KukeonError(
        'KUKEON_E_CONFIG',
        `the socket's directory ${dir} must belong to uid ${uid} and be writable by no one else (it is uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`,
      );
    }
    return;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (gid !== undefined) {
    fs.chownSync(dir, process.getuid?.() ?? 0, gid);
    fs.chmodSync(dir, 0o2750);
  } else fs.chmodSync(dir, 0o700);
}

/** 'live' when something accepts on the socket, 'stale' when the file is there and nothing does, else 'absent'. */
export function probeSocket(socketPath: string, timeoutMs = 1000): Promise<'live' | 'stale' | 'absent'> {
  if (!fs.existsSync(socketPath)) return Promise.resolve('absent');
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve('live'); // accepted into the backlog but slow: someone is there
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ENOENT' ? 'absent' : 'stale');
    });
  });
}

/** Makes the socket path free to bind: refuses a live socket or anything that is not a socket, removes a stale one. */
export async function claimSocket(socketPath: string): Promise<void> {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) throw new KukeonError('KUKEON_E_CONFIG', `${socketPath} exists and is not a socket; kukeond never removes it`);
  const state = await probeSocket(socketPath);
  if (state === 'live') {
    throw new KukeonError(
      'KUKEON_E_CONFLICT',
      `another kukeond is serving ${socketPath}; stop it first (its pid is in ${pidFileOf(socketPath)})`,
    );
  }
  if (state === 'stale') fs.rmSync(socketPath, { force: true });
}

/** `0660 root:<gid>`, or `0600` without a group. */
export function setSocketMode(socketPath: string, gid: number | undefined): void {
  if (gid !== undefined) {
    fs.chownSync(socketPath, process.getuid?.() ?? 0, gid);
    fs.chmodSync(socketPath, 0o660);
  } else fs.chmodSync(socketPath, 0o600);
}

/** The pid file beside the socket: `kukeond.pid`. */
export function pidFileOf(socketPath: string): string {
  return path.join(path.dirname(socketPath), 'kukeond.pid');
}
