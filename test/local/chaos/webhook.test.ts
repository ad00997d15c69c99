// Chaos Mesh's admission checks on the store (ISTIO-FACTS.md "Chaos Mesh": its webhooks check more than the CRD
// schema): each broken object with the error the API server would answer, and the defaults the mutating webhook adds.

import { expect } from 'chai';
import { CHAOS_KINDS } from '../../../clusters/local/chaos/index.js';
import { installChaosWebhooks } from '../../../clusters/local/chaos/webhook.js';
import { createMemoryStore, KEYS, StoreError } from '../../../clusters/local/store/index.js';
import { chaosObject } from './support.js';

const cases: {
  name: string;
  kind: string;
  key: keyof typeof KEYS;
  spec: Record<string, unknown>;
  code: number;
  message: RegExp;
}[] = [
  {
    name: 'unknown PodChaos action',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'pod-explode', mode: 'one' },
    code: 422,
    message:
      /spec\.action: Unsupported value: "pod-explode": supported values: "pod-kill", "pod-failure", "container-kill"/,
  },
  {
    name: 'pod-failure without duration',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'pod-failure', mode: 'one' },
    code: 403,
    message: /admission webhook "vpodchaos\.kb\.io" denied the request: spec\.duration: Required value/,
  },
  {
    name: 'container-kill without containerNames',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'container-kill', mode: 'one' },
    code: 403,
    message: /the name of container should not be empty on container-kill action/,
  },
  {
    name: 'fixed mode without value',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'pod-kill', mode: 'fixed' },
    code: 403,
    message: /spec\.value: Invalid value: "": parse value field error/,
  },
  {
    name: 'fixed-percent over 100',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'pod-kill', mode: 'fixed-percent', value: '150' },
    code: 403,
    message: /value of 150 is invalid, Must be \(0,100\] with mode:fixed-percent/,
  },
  {
    name: 'unknown mode',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'pod-kill', mode: 'some' },
    code: 422,
    message: /spec\.mode: Unsupported value: "some"/,
  },
  {
    name: 'bad duration',
    kind: 'PodChaos',
    key: 'podchaos',
    spec: { action: 'pod-kill', mode: 'one', duration: '10 minutes' },
    code: 403,
    message: /parse duration field error:time: /,
  },
  {
    name: 'StressChaos without stressors',
    kind: 'StressChaos',
    key: 'stresschaos',
    spec: { mode: 'one' },
    code: 403,
    message: /spec\.stressors: Invalid value: "null": missing stressors/,
  },
  {
    name: 'memory stressor without workers',
    kind: 'StressChaos',
    key: 'stresschaos',
    spec: { mode: 'one', stressors: { memory: { size: '1GB' } } },
    code: 403,
    message: /workers should always be positive/,
  },
  {
    name: 'NetworkChaos both without target',
    kind: 'NetworkChaos',
    key: 'networkchaos',
    spec: { action: 'partition', mode: 'all', direction: 'both' },
    code: 403,
    message: /from and both direction cannot be used when targets and external targets are both empty/,
  },
  {
    name: 'delay without latency',
    kind: 'NetworkChaos',
    key: 'networkchaos',
    spec: { action: 'delay', mode: 'all', delay: {} },
    code: 403,
    message: /spec\.delay\.latency: Required value/,
  },
  {
    name: 'TimeChaos without timeOffset',
    kind: 'TimeChaos',
    key: 'timechaos',
    spec: { mode: 'one' },
    code: 422,
    message: /spec\.timeOffset: Required value/,
  },
  {
    name: 'TimeChaos with a bad offset',
    kind: 'TimeChaos',
    key: 'timechaos',
    spec: { mode: 'one', timeOffset: '-10x' },
    code: 403,
    message: /time: unknown unit "x"/,
  },
];

describe('Chaos Mesh webhooks on the local store', () => {
  for (const c of cases) {
    it(`rejects: ${c.name}`, async () => {
      const store = createMemoryStore();
      installChaosWebhooks(store, CHAOS_KINDS);
      const error = await store.create(KEYS[c.key], chaosObject(c.kind, 'default', 'x', c.spec)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(StoreError);
      expect((error as StoreError).code).to.equal(c.code);
      expect((error as StoreError).message).to.match(c.message);
      expect(store.get(KEYS[c.key], 'default', 'x')).to.equal(undefined);
    });
  }

  it('defaults: selector.namespaces to the object namespace, NetworkChaos direction to "to"', async () => {
    const store = createMemoryStore();
    installChaosWebhooks(store, CHAOS_KINDS);
    const created = await store.create(
      KEYS.networkchaos,
      chaosObject('NetworkChaos', 'default', 'ok', {
        action: 'delay',
        mode: 'one',
        delay: { latency: '10ms' },
        selector: {},
      }),
    );
    expect(created.spec).to.deep.include({ direction: 'to', selector: { namespaces: ['default'] } });
  });
});
