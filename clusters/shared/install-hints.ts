// How to get each host tool a real-cluster target uses, for messages that say how to fix what is missing.

const INSTALL_HINTS: Record<string, string> = {
  docker: 'install Docker (https://docs.docker.com/get-docker/) and start its daemon',
  podman: 'install Podman (https://podman.io/docs/installation); on macOS run `podman machine start`',
  kind: 'install kind ≥ v0.30 (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), e.g. `go install sigs.k8s.io/kind@v0.30.0`',
  kubectl: 'install kubectl (https://kubernetes.io/docs/tasks/tools/)',
  helm: 'install Helm 3 (https://helm.sh/docs/intro/install/)',
  istioctl:
    'install istioctl (https://istio.io/latest/docs/setup/additional-setup/download-istio-release/) or let meshdrill fetch it (needs curl and tar)',
  curl: 'install curl (e.g. `apt-get install curl`)',
  tar: 'install tar (e.g. `apt-get install tar`)',
  openssl:
    'install OpenSSL (e.g. `apt-get install openssl`), or pass `--target-opt plugin-ca=DIR` with ready cacerts files',
};

export function installHintOf(tool: string): string {
  return INSTALL_HINTS[tool] ?? `install \`${tool}\` and put it on PATH`;
}
