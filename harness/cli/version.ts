// meshdrill's version, from package.json (one source of truth).

import { readFileSync } from 'node:fs';

// The package root is two levels up from the source (harness/cli/) and three from the build (dist/harness/cli/).
const fromRoot = import.meta.url.endsWith('.ts') ? '../../package.json' : '../../../package.json';
const packageJson = JSON.parse(readFileSync(new URL(fromRoot, import.meta.url), 'utf8')) as {
  version: string;
};

export const MESHDRILL_VERSION: string = packageJson.version;
