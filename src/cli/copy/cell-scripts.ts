// The shell scripts `kuke cp` runs in a container (as root, through the exec session API, the way kubectl cp
// runs tar): one packs a path, one tells what a destination is, one unpacks. Paths travel as positional
// arguments, never inside the script text. A condition the client turns into a message is one stderr line
// `kukeon-cp:<reason>`; anything else on stderr is tar's or the shell's own.

/** The stderr marker of a condition the scripts report. */
export const MARKER = 'kukeon-cp:';

const NEEDS_TAR = `command -v tar >/dev/null 2>&1 || { echo ${MARKER}no-tar >&2; exit 1; }`;

/**
 * Packs `$1` as a tar on stdout. `$2` = 1: the path must be a directory (a trailing `/`), followed if a link;
 * `$3` = 1: its content (`/.`); `$4` = 1: follow `$1` when it is a link (`-L`); `$5` and `$6`: its directory
 * and name. A directory is packed from its real parent under its real name: the first entry names it.
 */
const PACK = `${NEEDS_TAR}
if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo ${MARKER}not-found >&2; exit 1; fi
if [ "$2" = 1 ] && [ ! -d "$1" ]; then echo ${MARKER}not-dir >&2; exit 1; fi
if [ -d "$1" ] && { [ "$2" = 1 ] || [ "$4" = 1 ] || [ ! -L "$1" ]; }; then
  cd -P "$1" || exit 1
  real=$(pwd -P)
  if [ "$3" = 1 ] || [ "$real" = / ]; then exec tar -cf - .; fi
  cd .. && exec tar -cf - -- "\${real##*/}"
fi
cd "$5" || exit 1
if [ "$4" = 1 ]; then exec tar -chf - -- "$6"; fi
exec tar -cf - -- "$6"`;

/** Prints what `$1` is: `dir`, `file` (anything else, a link to nothing too), `none` (its parent `$2` is a directory) or `no-parent`. */
const STAT = `${NEEDS_TAR}
if [ -d "$1" ]; then echo dir; elif [ -e "$1" ] || [ -L "$1" ]; then echo file; elif [ -d "$2" ]; then echo none; else echo no-parent; fi`;

/** Unpacks the tar on stdin into the directory `$1`, keeping modes and (as root) owners. */
const UNPACK = `${NEEDS_TAR}
cd "$1" 2>/dev/null || { echo ${MARKER}no-dir >&2; exit 1; }
exec tar -xpf -`;

const flag = (b: boolean) => (b ? '1' : '0');
const sh = (script: string, args: string[]) => ['/bin/sh', '-c', script, 'kukeon-cp', ...args];

export interface PackArgs {
  clean: string;
  assertDir: boolean;
  contents: boolean;
  follow: boolean;
  dir: string;
  base: string;
}

export function packCommand(p: PackArgs): string[] {
  return sh(PACK, [p.clean, flag(p.assertDir), flag(p.contents), flag(p.follow), p.dir, p.base]);
}

export function statCommand(clean: string, dir: string): string[] {
  return sh(STAT, [clean, dir]);
}

export function unpackCommand(dir: string): string[] {
  return sh(UNPACK, [dir]);
}
