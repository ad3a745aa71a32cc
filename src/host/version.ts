// The package version, read once from package.json (two levels above dist/src/host and src/host).
import fs from 'node:fs';
import path from 'node:path';

function find(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kukeon' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

export const VERSION = find();
