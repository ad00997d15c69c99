// Mocha reporter: mocha's own "spec" output, then one closing line "N passed, N failed" that CI reads.
// (Mocha's built-in reporters never print that exact line; KUBE-API-NOTES.md.)
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => passed++);
    runner.on(EVENT_TEST_FAIL, () => failed++);
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    // Spec prints its epilogue on 'end'; ours must come after it, so it is registered last.
    runner.once(EVENT_RUN_END, () => {
      process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    });
  }
}
module.exports = CountReporter;
