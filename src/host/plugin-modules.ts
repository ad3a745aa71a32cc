// biome-ignore-all lint/suspicious/noExplicitAny: Plugin<any> is "a plugin of any config type" (its config is contravariant in apply)
// Third-party plugins, named in the configuration file by module specifier: a package name, or a path starting
// with `./`, `../` or `/` resolved from the configuration file's directory. The module's default export (or
// module.exports) is the plugin.
//
// A plugin must receive the host's own instances and never load a second copy of kukeon, so while a plugin
// module loads, and afterwards for any module inside the plugin's package, `require('kukeon/sdk')` and
// `require('kukeon/sdk/testkit')` resolve to this host's own files (as yarn hands its plugins the host's
// dynamic libs). Exactly those specifiers are redirected; everything else resolves as Node resolves it.

import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { KukeonError } from '../../sdk';
import type { Plugin } from '../../sdk';

/** The root of the kukeon package this host runs from (this file is dist/src/host/plugin-modules.js). */
const HOST_ROOT = path.resolve(__dirname, '../../..');

/** The specifiers a plugin may import from kukeon, mapped to this host's own compiled files. */
export const HOST_MODULES: Readonly<Record<string, string>> = Object.freeze({
  'kukeon/sdk': path.resolve(__dirname, '../../sdk/index.js'),
  'kukeon/sdk/testkit': path.resolve(__dirname, '../../sdk/testkit/index.js'),
});

type ResolveFilename = (request: string, parent: NodeModule | undefined, isMain: boolean, options?: unknown) => string;

/** Package directories of loaded plugin modules: their requires of kukeon/sdk keep resolving to the host's. */
const pluginRoots = new Set<string>();
/** How many plugin modules are being required right now (their hoisted dependencies are redirected too). */
let loading = 0;
let installed = false;

function within(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Installs the redirect once per process. */
function installResolveHook(): void {
  if (installed) return;
  installed = true;
  const M = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = M._resolveFilename;
  M._resolveFilename = function resolveFilename(this: unknown, request, parent, isMain, options) {
    const own = Object.hasOwn(HOST_MODULES, request) ? HOST_MODULES[request] : undefined;
    if (own !== undefined) {
      const from = parent?.filename;
      if (loading > 0 || (from && [...pluginRoots].some((root) => within(root, from)))) return own;
    }
    return original.call(this, request, parent, isMain, options);
  };
}

/** The plugin's package directory: the nearest one with a package.json, unless that is kukeon's own. */
function packageRoot(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir === HOST_ROOT ? path.dirname(file) : dir;
    if (path.dirname(dir) === dir) return path.dirname(file);
  }
}

/** `./x`, `../x` and `/x` are paths; anything else is a package name. */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier === '.' || specifier === '..';
}

function looksLikePlugin(v: unknown): v is Plugin<any> {
  return typeof v === 'object' && v !== null && typeof (v as Plugin).apply === 'function';
}

/** The module's default export, else module.exports, when it is a plugin object. */
function pluginExport(mod: unknown): Plugin<any> | undefined {
  const def = (mod as { default?: unknown } | null)?.default;
  if (looksLikePlugin(def)) return def;
  if (looksLikePlugin(mod)) return mod;
  return undefined;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Resolves and requires a plugin module: a path relative to `baseDir` (the configuration file's directory), or
 * a package name looked up from `baseDir` and then from kukeon's own installation. Throws KUKEON_E_PLUGIN naming
 * the specifier when the module cannot be found or loaded, or exports no plugin.
 */
export function loadPluginModule(specifier: string, baseDir: string): Plugin<any> {
  installResolveHook();
  const fail = (why: string, hint?: string, cause?: unknown) =>
    new KukeonError('KUKEON_E_PLUGIN', `plugin module ${specifier}: ${why}`, { plugin: specifier, hint }, { cause });
  let file: string;
  try {
    file = isPathSpecifier(specifier)
      ? require.resolve(path.resolve(baseDir, specifier))
      : require.resolve(specifier, { paths: [baseDir, HOST_ROOT] });
  } catch (err) {
    const where = isPathSpecifier(specifier) ? path.resolve(baseDir, specifier) : `a package looked up from ${baseDir}`;
    throw fail(`not found (${where}): ${firstLine(err)}`, 'a key of plugins: that is not a built-in name is a module specifier', err);
  }
  pluginRoots.add(packageRoot(file));
  let mod: unknown;
  loading += 1;
  try {
    mod = require(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM')
      throw fail(`${file} is an ES module; plugins are loaded with require() and must be CommonJS`, undefined, err);
    throw fail(`failed to load ${file}: ${firstLine(err)}`, undefined, err);
  } finally {
    loading -= 1;
  }
  const plugin = pluginExport(mod);
  if (!plugin)
    throw fail(`${file} exports no plugin (export the object made by definePlugin() as module.exports or as the default export)`);
  return plugin;
}
