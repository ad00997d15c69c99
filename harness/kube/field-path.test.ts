import { expect } from 'chai';
import { parseFieldPath, readField } from './field-path.js';

describe('field paths for kubernetes conditions', () => {
  const pod = {
    metadata: { labels: { 'app.kubernetes.io/name': 'web' } },
    status: {
      containerStatuses: [
        { name: 'app', restartCount: 0, lastState: {} },
        {
          name: 'istio-proxy',
          restartCount: 3,
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
        },
      ],
    },
  };
  it('fans out over lists with [*] and skips missing fields', () => {
    expect(readField(pod, 'status.containerStatuses[*].lastState.terminated.reason')).to.deep.equal([
      'OOMKilled',
    ]);
    expect(readField(pod, 'status.containerStatuses[*].restartCount')).to.deep.equal([0, 3]);
  });
  it('indexes lists and quoted keys', () => {
    expect(readField(pod, 'status.containerStatuses[1].name')).to.deep.equal(['istio-proxy']);
    expect(readField(pod, "metadata.labels['app.kubernetes.io/name']")).to.deep.equal(['web']);
    expect(readField(pod, 'status.containerStatuses[5].name')).to.deep.equal([]);
  });
  it('rejects what is not a path', () => {
    expect(parseFieldPath('status..x')).to.equal(undefined);
    expect(parseFieldPath('')).to.equal(undefined);
    expect(() => readField(pod, 'a b')).to.throw(/not a field path/);
  });
});
