// The store's write preconditions as one pure check: existence, uid, resourceVersion — each failing alone, with
// the messages and codes kubectl prints, and nothing when they all hold.

import { expect } from 'chai';
import { checkPreconditions, preconditionFailure } from '../../../clusters/local/store/preconditions.js';
import { findResource, KEYS, type ResourceDefinition } from '../../../clusters/local/store/resources.js';
import { StoreError, type StoredObject } from '../../../clusters/local/store/types.js';

function definition(key: (typeof KEYS)[keyof typeof KEYS]): ResourceDefinition {
  const def = findResource(key);
  if (!def) throw new Error(`${key.resource} is not served`);
  return def;
}

const pods = definition(KEYS.pods);
const deployments = definition(KEYS.deployments);

function stored(name: string, uid: string, resourceVersion: string): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid, resourceVersion },
  } as StoredObject;
}

const current = stored('web-0', 'uid-a', '42');

describe('store preconditions', () => {
  it('holds when the object exists and matches what the request names', () => {
    expect(preconditionFailure(pods, 'web-0', current)).to.equal(undefined);
    expect(preconditionFailure(pods, 'web-0', current, {})).to.equal(undefined);
    expect(preconditionFailure(pods, 'web-0', current, { uid: 'uid-a', resourceVersion: '42' })).to.equal(
      undefined,
    );
  });

  it('treats an empty uid or resourceVersion as no precondition', () => {
    expect(preconditionFailure(pods, 'web-0', current, { uid: '', resourceVersion: '' })).to.equal(undefined);
  });

  it('fails with 404 NotFound when the object does not exist', () => {
    const failure = preconditionFailure(deployments, 'api', undefined, { uid: 'uid-a' });
    expect(failure).to.be.instanceOf(StoreError);
    expect(failure?.code).to.equal(404);
    expect(failure?.reason).to.equal('NotFound');
    expect(failure?.message).to.equal('deployments.apps "api" not found');
  });

  it('fails with 409 Conflict naming both uids when the uid differs', () => {
    const failure = preconditionFailure(pods, 'web-0', current, { uid: 'uid-b' });
    expect(failure?.code).to.equal(409);
    expect(failure?.reason).to.equal('Conflict');
    expect(failure?.message).to.equal(
      'Precondition failed: UID in precondition: uid-b, UID in object meta: uid-a',
    );
  });

  it('fails with 409 Conflict "the object has been modified" when the resourceVersion differs', () => {
    const failure = preconditionFailure(pods, 'web-0', current, { resourceVersion: '41' });
    expect(failure?.code).to.equal(409);
    expect(failure?.reason).to.equal('Conflict');
    expect(failure?.message).to.equal(
      'Operation cannot be fulfilled on pods "web-0": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('checks the uid before the resourceVersion when both differ', () => {
    const failure = preconditionFailure(pods, 'web-0', current, { uid: 'uid-b', resourceVersion: '41' });
    expect(failure?.message).to.match(/^Precondition failed: UID in precondition: uid-b/);
  });

  it('checkPreconditions throws the failure and passes when the preconditions hold', () => {
    expect(() => checkPreconditions(pods, 'web-0', current, { resourceVersion: '42' })).not.to.throw();
    expect(() => checkPreconditions(pods, 'web-0', current, { resourceVersion: '7' }))
      .to.throw(StoreError)
      .with.property('code', 409);
    expect(() => checkPreconditions(pods, 'gone', undefined)).to.throw(StoreError, 'pods "gone" not found');
  });
});
