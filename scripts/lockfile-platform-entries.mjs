#!/usr/bin/env node
// Adds lockfile entries for optional platform-specific packages (other OSes / CPUs) that npm could not resolve from this
// machine's registry mirror, which serves only the linux-x64 builds. Without them `npm ci` refuses the lockfile
// ("Missing: @duckdb/node-bindings-darwin-arm64@ from lock file"). The entries carry os/cpu/libc, so npm skips them here
// and never fetches them. Run after `npm install` changes dependencies: `node scripts/lockfile-platform-entries.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;
const platformOf = (name) => {
  const n = name.split('/').pop();
  const os = ['darwin', 'linux', 'win32', 'freebsd', 'android'].find((o) => n.includes(o));
  const cpu = ['arm64', 'x64', 'ia32', 'arm'].find((c) => n.includes(c));
  const libc = n.includes('musl') ? 'musl' : n.includes('gnu') || (os === 'linux' && !n.includes('musl')) ? 'glibc' : null;
  return os && cpu ? { os, cpu, libc: os === 'linux' ? libc : null } : null;
};
let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${dep}`;
    if (pkgs[at]) continue;
    const p = platformOf(dep);
    if (!p) continue;
    pkgs[at] = {
      version: String(version).replace(/^[\^~]/, ''),
      optional: true,
      os: [p.os],
      cpu: [p.cpu],
      ...(p.libc ? { libc: [p.libc] } : {}),
    };
    added++;
    void key;
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform entries`);
