import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { abortableSleep } from './abortable-sleep.js';

describe('abortableSleep', () => {
  it('resolves after its time and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    const started = Date.now();
    await abortableSleep(30, controller.signal);
    expect(Date.now() - started).to.be.at.least(25);
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
  });

  it('rejects with the given reason when the signal aborts first, well before its time', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('signal reason')), 10);
    const error = await abortableSleep(10_000, controller.signal, () => new Error('stopped')).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).to.equal('stopped');
    expect(Date.now() - started).to.be.below(5_000);
  });

  it("rejects at once on an aborted signal, with the signal's reason by default", async () => {
    const controller = new AbortController();
    controller.abort(new Error('already'));
    const error = await abortableSleep(10_000, controller.signal).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('already');
  });
});
