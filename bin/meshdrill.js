#!/usr/bin/env node
// meshdrill entry point. In a checkout the TypeScript sources run through tsx (never a stale dist/);
// a published package ships only dist/, which then runs directly.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'harness', 'cli', 'main.ts');
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(join(root, 'dist', 'harness', 'cli', 'main.js')).href);
}
