// Public face of the local target's istioctl: the installer the target calls at provision, and the pure
// parsers tests and runbook helpers use to read its tables.
export { type IstioctlInstall, installIstioctl } from './install.js';
export { parseTable } from './tabwriter.js';
export { ANALYZER_FOUND_ISSUES, CLIENT_VERSION } from './commands.js';
