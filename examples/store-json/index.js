// @ts-check
// store-json: an out-of-tree store plugin for kukeon. It keeps the same tree as store-yaml, as JSON files:
//   <dir>/<realm>/realm.json, <realm>/<space>/space.json, .../<stack>/stack.json, .../<cell>/cell.json,
//   .../<cell>/containers/<id>.json
// Writes use the SDK's crash-safe writer (temp file, fsync, rename, fsync of the directory); writers serialize on
// the host's lock. Temps and tombstones are named so the kit's stray-temp cleaner recognises them.
const fs = require('node:fs/promises');
const path = require('node:path');
const { KukeonError, definePlugin, formatRef, parentRef, refOf, tempPathFor, writeFileAtomic } = require('kukeon/sdk');

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const missing = (/** @type {any} */ e) => e?.code === 'ENOENT' || e?.code === 'ENOTDIR';

/** @type {import('kukeon/sdk').Plugin<{ dir?: string }>} */
module.exports = definePlugin({
  name: 'store-json',
  version: require('./package.json').version,
  slot: 'store',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { dir: { type: 'string', description: 'root of the tree (default: the run path)', 'x-env': 'KUKEON_STORE_JSON_DIR' } },
  },
  apply(host, config) {
    const root = config.dir ?? host.paths.runPath;
    /** The directory of a resource (a container's: its cell's containers/). @param {import('kukeon/sdk').Ref} ref */
    const dirOf = (ref) => {
      if (!ref.path.every((n) => NAME.test(n))) throw new KukeonError('KUKEON_E_INVALID_NAME', `${formatRef(ref)}: invalid name`);
      return ref.kind === 'Container' ? path.join(root, ...ref.path.slice(0, 4), 'containers') : path.join(root, ...ref.path);
    };
    /** @param {import('kukeon/sdk').Ref} ref */
    const fileOf = (ref) => path.join(dirOf(ref), ref.kind === 'Container' ? `${ref.path[4]}.json` : `${ref.kind.toLowerCase()}.json`);
    const read = (/** @type {string} */ file) =>
      fs.readFile(file, 'utf8').then(JSON.parse, (e) => (missing(e) ? undefined : Promise.reject(e)));
    /** Temp file, fsync, rename, fsync of the directory; the conformance kit kills the process before the rename. */
    const write = (/** @type {string} */ file, /** @type {unknown} */ doc) =>
      writeFileAtomic(file, JSON.stringify(doc, null, 2), { failpoint: 'store.before-rename' });
    const requireParent = async (/** @type {import('kukeon/sdk').Ref} */ ref, parent = parentRef(ref)) => {
      if (parent && !(await read(fileOf(parent))))
        throw new KukeonError('KUKEON_E_PARENT_NOT_FOUND', `${formatRef(parent)} does not exist`);
    };
    /** @type {import('kukeon/sdk').StoreService} */
    const store = {
      get: (ref) => read(fileOf(ref)),
      async list(kind, parent) {
        const dir = kind === 'Container' ? dirOf({ kind, path: [...parent, 'x'] }) : path.join(root, ...parent);
        const names = (await fs.readdir(dir).catch((e) => (missing(e) ? [] : Promise.reject(e)))).map((n) =>
          kind === 'Container' ? n.replace(/\.json$/, '') : n,
        );
        const docs = await Promise.all(
          names
            .filter((n) => NAME.test(n))
            .sort()
            .map((n) => store.get({ kind, path: [...parent, n] })),
        );
        return docs.filter((d) => d !== undefined);
      },
      put: (doc) => host.locks.with('store', () => requireParent(refOf(doc)).then(() => write(fileOf(refOf(doc)), doc))),
      update: (ref, fn) =>
        host.locks.with('store', async () => {
          const current = await store.get(ref);
          const next = fn(current);
          if (next !== undefined) await requireParent(ref).then(() => write(fileOf(ref), next));
          return next ?? current;
        }),
      remove: (ref) =>
        host.locks.with('store', async () => {
          if (ref.kind === 'Container') return fs.rm(fileOf(ref), { force: true });
          const tomb = tempPathFor(dirOf(ref)); // out of sight in one rename, then deleted: never half a resource
          if (
            await fs.rename(dirOf(ref), tomb).then(
              () => true,
              (e) => (missing(e) ? false : Promise.reject(e)),
            )
          )
            await fs.rm(tomb, { recursive: true, force: true });
        }),
      location: dirOf,
    };
    host.services.provide('store', store);
  },
});
