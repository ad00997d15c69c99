// One SLI implementation: every SLO figure the report shows (the windows, and the SLIs after each runbook step)
// is the engine's, read from the journal; recomputed from the journal's own load samples with the engine's maths
// it is the same number. The journal comes from a drill on the fake world.

import { expect } from 'chai';
import type { EventOf, LoadSample } from '../../harness/model/index.js';
import { judgeSlos } from '../../harness/slo/instrument.js';
import { renderHtml } from '../../reports/html/index.js';
import { buildResults } from '../../reports/results.js';
import { FakeWorld, fakeScenario, runOnWorld } from '../support/fake-world.js';

describe("reports: SLI figures are the engine's", function () {
  this.timeout(60_000);

  it('results.json and the HTML show what the engine judged, window by window', async () => {
    const world = new FakeWorld();
    const scenario = fakeScenario({
      slos: [
        ...fakeScenario().slos,
        { source: 'p(95) < 250ms', metric: 'latency', percentile: 95, op: '<', value: 250 },
      ],
    });
    const { journal } = await runOnWorld(world, [scenario]);
    const events = journal.events;
    const samples = events.flatMap((e) => (e.type === 'load-sample' ? [e.sample as LoadSample] : []));
    const windows = events.filter((e): e is EventOf<'slo-window'> => e.type === 'slo-window');
    expect(windows.map((w) => w.window)).to.include.members([
      'steady-state',
      'during-fault',
      'after-recovery',
      'after-step',
    ]);
    const results = buildResults(events);
    const r = results.scenarios[0];
    if (!r) throw new Error('no scenario in results');
    for (const w of windows) {
      // The engine's maths over the journal's samples gives what the journal holds...
      const again = judgeSlos(scenario.slos, samples, w.from, w.to);
      expect(
        again.map((x) => x.measured),
        `${w.window} recomputed`,
      ).to.deep.equal(w.results.map((x) => x.measured));
      // ...and the report shows exactly that.
      const shown =
        w.window === 'after-step'
          ? r.runbook.find((s) => s.index === w.step)?.slisAfter.map((x) => x.measured)
          : r.sloWindows.find((x) => x.window === w.window)?.results.map((x) => x.measured);
      const expected = w.results.map((x) => (Number.isNaN(x.measured) ? null : x.measured));
      expect(shown, `${w.window} in results.json`).to.deep.equal(
        w.window === 'after-step' ? expected : w.results.map((x) => x.measured),
      );
    }
    const step = r.runbook[0]?.slisAfter;
    expect(step, 'SLIs after the runbook step').to.have.length(2);
    // The runbook table of the HTML shows the step's figures as the engine judged them.
    const html = renderHtml(results, events);
    const row = html.slice(html.indexOf('<table class="runbook">'));
    for (const v of step ?? []) {
      const shown = v.source.startsWith('p(') ? `${Math.round(v.measured ?? Number.NaN)}ms` : '100%';
      expect(row).to.include(
        `${shown} <span class="sub">${v.source.replace('>', '&gt;').replace('<', '&lt;')}</span>`,
      );
    }
  });
});
