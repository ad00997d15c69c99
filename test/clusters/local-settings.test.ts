// The local target reads its settings as strictly as kind and existing: a typo or a bad value is refused with
// every problem at once and the valid keys, instead of being ignored.

import { expect } from 'chai';
import { readLocalSettings } from '../../clusters/local/local-settings.js';
import { MeshdrillError } from '../../harness/model/errors.js';

describe('local target settings', () => {
  it('reads every setting, with its default', () => {
    expect(readLocalSettings({})).to.deep.equal({
      apiPort: 0,
      mesh: true,
      backoffScale: 1,
      k6: { mode: 'local', runners: 1 },
      istioVersion: '1.30.3',
    });
    expect(
      readLocalSettings(
        {
          'api-port': '6443',
          kubeconfig: '/tmp/kc',
          mesh: 'false',
          'backoff-scale': '0.5',
          'k6-mode': 'in-cluster',
          'k6-runners': '3',
        },
        1,
        '1.29.9',
      ),
    ).to.deep.equal({
      apiPort: 6443,
      kubeconfig: '/tmp/kc',
      mesh: false,
      backoffScale: 0.5,
      k6: { mode: 'in-cluster', runners: 3 },
      istioVersion: '1.29.9',
    });
  });

  it('reads revision= (a DNS label; `default` is the default install) and refuses another name', () => {
    expect(readLocalSettings({ revision: 'canary' }).revision).to.equal('canary');
    expect(readLocalSettings({ revision: 'default' })).not.to.have.property('revision');
    let error: unknown;
    try {
      readLocalSettings({ revision: 'Canary_1' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as MeshdrillError).kind).to.equal('invalid-input');
    expect((error as MeshdrillError).message).to.include(
      '--target-opt revision: expected a DNS label (lower-case letters, digits and "-", at most 63 characters), got "Canary_1"',
    );
  });

  it('refuses an Istio version the local target does not serve, naming those it serves and how to fix it', () => {
    let error: unknown;
    try {
      readLocalSettings({}, 1, '1.30.4');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(MeshdrillError);
    const { message, kind, hint } = error as MeshdrillError;
    expect(kind).to.equal('invalid-input');
    expect(message).to.equal('--istio 1.30.4: the local target serves Istio 1.29.9, 1.30.3 only');
    expect(hint).to.equal(
      'name one of those with --istio (or leave --istio out for 1.30.3), or run other versions with --target kind',
    );
  });

  it('refuses unknown keys and bad values, all at once, naming the valid keys', () => {
    let error: unknown;
    try {
      readLocalSettings({
        'k6-mode': 'cluster',
        'k6-runners': '100',
        'backoff-scale': '-1',
        'cluster-name': 'x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(MeshdrillError);
    const { message, kind, hint } = error as MeshdrillError;
    expect(kind).to.equal('invalid-input');
    expect(message).to.include('4 problems');
    expect(message).to.include('--target-opt k6-mode: expected one of local, in-cluster, got "cluster"');
    expect(message).to.include('--target-opt k6-runners: expected a whole number from 1 to 64, got "100"');
    expect(message).to.include('--target-opt backoff-scale: expected a positive number, got "-1"');
    expect(message).to.include('--target-opt cluster-name: not a setting of the local target');
    expect(hint).to.include('k6-runners');
  });
});
