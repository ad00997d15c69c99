// AuthorizationPolicy evaluation at the server sidecar: DENY before ALLOW, ALLOW-with-rules gates access, an
// ALLOW policy without rules denies everything, `rules: [{}]` allows everything (the seed's allow-all).

import { expect } from 'chai';
import type { AuthorizationConfig } from '../../../clusters/local/mesh/model/proxy-config.js';
import { isAllowed } from '../../../clusters/local/mesh/proxy/authz.js';

const req = (over: Partial<Parameters<typeof isAllowed>[1]> = {}) => ({
  principal: 'cluster.local/ns/shop/sa/frontend',
  namespace: 'shop',
  path: '/api/items?x=1',
  method: 'GET',
  port: 8080,
  ...over,
});

const rule = (
  from: Partial<AuthorizationConfig['rules'][number]['from'][number]>[] = [],
  to: Partial<AuthorizationConfig['rules'][number]['to'][number]>[] = [],
) => ({
  from: from.map((f) => ({ principals: [], namespaces: [], notPrincipals: [], notNamespaces: [], ...f })),
  to: to.map((t) => ({ paths: [], methods: [], notPaths: [], notMethods: [], ports: [], ...t })),
});

describe('authorization policy evaluation', () => {
  it('no policies: allowed', () => {
    expect(isAllowed([], req()).allowed).to.equal(true);
  });

  it('an ALLOW policy without rules denies everything; rules: [{}] allows everything', () => {
    expect(isAllowed([{ name: 'shop/deny-all', action: 'ALLOW', rules: [] }], req()).allowed).to.equal(false);
    expect(isAllowed([{ name: 'shop/allow-all', action: 'ALLOW', rules: [rule()] }], req()).allowed).to.equal(
      true,
    );
  });

  it('ALLOW by principal and path prefix; others are denied', () => {
    const policies: AuthorizationConfig[] = [
      {
        name: 'shop/fe',
        action: 'ALLOW',
        rules: [
          rule(
            [{ principals: ['cluster.local/ns/shop/sa/frontend'] }],
            [{ paths: ['/api/*'], methods: ['GET'] }],
          ),
        ],
      },
    ];
    expect(isAllowed(policies, req()).allowed).to.equal(true);
    expect(isAllowed(policies, req({ method: 'POST' })).allowed).to.equal(false);
    expect(isAllowed(policies, req({ principal: 'cluster.local/ns/shop/sa/other' })).allowed).to.equal(false);
    expect(isAllowed(policies, req({ principal: undefined })).allowed).to.equal(false);
  });

  it('DENY wins over ALLOW', () => {
    const policies: AuthorizationConfig[] = [
      { name: 'shop/allow-all', action: 'ALLOW', rules: [rule()] },
      { name: 'shop/no-admin', action: 'DENY', rules: [rule([], [{ paths: ['/admin*'] }])] },
    ];
    expect(isAllowed(policies, req({ path: '/admin/x' }))).to.deep.equal({
      allowed: false,
      policy: 'shop/no-admin',
    });
    expect(isAllowed(policies, req()).allowed).to.equal(true);
  });
});
