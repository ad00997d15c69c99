// E2E fixture: one booted LocalTarget and its real /usr/bin/kubectl, from the shared local-target test support.

export { type Booted, bootTarget, expectOk, until } from '../support/index.js';
