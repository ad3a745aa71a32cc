// The few system calls the plugin makes on a cgroup filesystem, behind one interface so unit tests can run the
// plugin on a temporary directory that behaves like cgroupfs (test/helpers/fake-cgroupfs.ts), refusals included.

import fs from 'node:fs';

export interface CgroupSys {
  /** One directory (not recursive); EEXIST when it is there. In cgroupfs this creates a cgroup. */
  mkdir(dir: string): void;
  /** One empty directory; EBUSY (cgroupfs) while the cgroup has children or processes. */
  rmdir(dir: string): void;
  readFile(file: string): string;
  /** Opens with O_CREAT as `echo >` does: cgroupfs answers EACCES for an interface file that does not exist. */
  writeFile(file: string, value: string): void;
  /** Names of the child directories (child cgroups) of `dir`. */
  subdirs(dir: string): string[];
  exists(p: string): boolean;
  writable(p: string): boolean;
  kill(pid: number, signal: NodeJS.Signals): void;
}

export const nodeCgroupSys: CgroupSys = {
  mkdir: (dir) => fs.mkdirSync(dir),
  rmdir: (dir) => fs.rmdirSync(dir),
  readFile: (file) => fs.readFileSync(file, 'utf8'),
  writeFile: (file, value) => fs.writeFileSync(file, value),
  subdirs: (dir) =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name),
  exists: (p) => fs.existsSync(p),
  writable: (p) => {
    try {
      fs.accessSync(p, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  kill: (pid, signal) => process.kill(pid, signal),
};
