// Label and field selector syntax and matching, including the error a real server gives for bad syntax.

import { expect } from 'chai';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { StoreError } from './types.js';

const labels = { app: 'web', tier: 'front', env: 'prod' };

describe('label selectors', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (api,web)', true],
    ['app in (api, db)', false],
    ['app notin (api,db)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,tier in (front,back),!missing', true],
    ['app=web,tier=back', false],
    ['env in (prod),app notin (x, y),tier', true],
  ];
  for (const [selector, expected] of cases) {
    it(`"${selector}" ${expected ? 'matches' : 'does not match'}`, () => {
      expect(matchesLabels(parseLabelSelector(selector), labels)).to.equal(expected);
    });
  }

  it('treats an object without labels as having none', () => {
    expect(matchesLabels(parseLabelSelector('!app'), undefined)).to.equal(true);
    expect(matchesLabels(parseLabelSelector('app'), undefined)).to.equal(false);
  });

  for (const bad of ['app in web', 'a b', '=x', 'app in (a']) {
    it(`rejects "${bad}" with a 400 naming the requirement`, () => {
      try {
        parseLabelSelector(bad);
        expect.fail('expected a parse error');
      } catch (error) {
        expect(error).to.be.instanceOf(StoreError);
        expect((error as StoreError).code).to.equal(400);
        expect((error as StoreError).message).to.include('unable to parse requirement');
      }
    });
  }
});

describe('field selectors', () => {
  const pod = {
    metadata: { name: 'p1', namespace: 'ns' },
    spec: { nodeName: 'node-1' },
    status: { phase: 'Running' },
  };
  const event = { involvedObject: { kind: 'Pod', name: 'p1' }, metadata: { name: 'e' } };

  it('matches metadata, spec and status paths with = and ==', () => {
    expect(matchesFields(parseFieldSelector('metadata.name=p1,metadata.namespace==ns'), pod)).to.equal(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName=node-1,status.phase=Running'), pod)).to.equal(
      true,
    );
    expect(matchesFields(parseFieldSelector('status.phase=Pending'), pod)).to.equal(false);
  });

  it('supports != and reads absent fields as empty', () => {
    expect(matchesFields(parseFieldSelector('status.phase!=Succeeded'), pod)).to.equal(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName='), { spec: {} })).to.equal(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName!='), pod)).to.equal(true);
  });

  it('matches involvedObject fields of events', () => {
    expect(
      matchesFields(parseFieldSelector('involvedObject.name=p1,involvedObject.kind=Pod'), event),
    ).to.equal(true);
    expect(matchesFields(parseFieldSelector('involvedObject.name=p2'), event)).to.equal(false);
  });

  it('rejects a requirement without an operator', () => {
    expect(() => parseFieldSelector('metadata.name')).to.throw(StoreError, 'invalid field selector');
  });
});
