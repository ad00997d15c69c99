import { expect } from 'chai';
import { buildTargetEnv } from './target-env.js';

describe('target environment for commands', () => {
  it("pins KUBECONFIG and a private cache, and drops the user's own cluster pointers (kubectl, helm, istioctl) — for command conditions as for runbook steps", () => {
    const env = buildTargetEnv(
      { kubeconfigPath: '/run/x/kubeconfig', binDirs: ['/run/x/bin'], workDir: '/run/x' },
      {
        KUBECONFIG: '/home/me/.kube/config',
        HELM_KUBECONTEXT: 'prod',
        HELM_KUBEAPISERVER: 'https://prod:6443',
        HELM_KUBETOKEN: 'secret',
        HELM_KUBECAFILE: '/prod/ca.crt',
        ISTIOCTL_XDS_ADDRESS: 'istiod.prod:15012',
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        PATH: '/usr/bin',
        HOME: '/home/me',
      },
    );
    expect(env.KUBECONFIG).to.equal('/run/x/kubeconfig');
    expect(env.KUBECACHEDIR).to.equal('/run/x/kube-cache');
    expect(env.PATH).to.equal('/run/x/bin:/usr/bin');
    for (const key of [
      'HELM_KUBECONTEXT',
      'HELM_KUBEAPISERVER',
      'HELM_KUBETOKEN',
      'HELM_KUBECAFILE',
      'ISTIOCTL_XDS_ADDRESS',
      'KUBERNETES_SERVICE_HOST',
    ]) {
      expect(env, key).to.not.have.property(key);
    }
    expect(env.HOME).to.equal('/home/me');
  });
});
