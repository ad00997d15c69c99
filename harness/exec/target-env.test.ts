import { expect } from 'chai';
import { buildTargetEnv } from './target-env.js';

describe('target environment for commands', () => {
  it("pins KUBECONFIG and a private cache, and drops the user's own context variables", () => {
    const env = buildTargetEnv(
      { kubeconfigPath: '/run/x/kubeconfig', binDirs: ['/run/x/bin'], workDir: '/run/x' },
      { KUBECONFIG: '/home/me/.kube/config', HELM_KUBECONTEXT: 'prod', PATH: '/usr/bin', HOME: '/home/me' },
    );
    expect(env.KUBECONFIG).to.equal('/run/x/kubeconfig');
    expect(env.KUBECACHEDIR).to.equal('/run/x/kube-cache');
    expect(env.PATH).to.equal('/run/x/bin:/usr/bin');
    expect(env).to.not.have.property('HELM_KUBECONTEXT');
    expect(env.HOME).to.equal('/home/me');
  });
});
