// istioctl's command dispatch for the local target: global flags, help, and errors printed the cobra way
// (`Error: …` on stderr, exit 1; `istioctl analyze` exits 79 when it finds errors).

import { openCluster, IstioctlError, resolveKubeconfig } from './access.js';
import { parseArgs, UsageError, flagTrue } from './args.js';
import {
  analyzeCommand,
  CLIENT_VERSION,
  type CommandContext,
  type Io,
  proxyConfig,
  proxyStatus,
  version,
} from './commands.js';
import { installCommand, tagCommand, uninstallCommand } from './revisions.js';

type Command = (ctx: CommandContext) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  'proxy-status': {
    run: proxyStatus,
    help: 'Retrieves the synchronization status of each Envoy in the mesh (istiod /debug/syncz)',
  },
  'proxy-config': {
    run: proxyConfig,
    help: 'Retrieves cluster, route, endpoint or secret configuration of the Envoy in the specified pod',
  },
  analyze: { run: analyzeCommand, help: 'Analyze Istio configuration and print validation messages' },
  version: { run: version, help: 'Prints out build version information' },
  install: {
    run: installCommand,
    help: 'Applies an Istio control plane (--revision R / --set revision=R, --set tag=VERSION; -y)',
  },
  uninstall: { run: uninstallCommand, help: 'Uninstall a control plane revision (--revision R; -y)' },
  tag: { run: tagCommand, help: 'Command group used to interact with revision tags (set, list, remove)' },
};

const ALIASES: Record<string, string> = { ps: 'proxy-status', pc: 'proxy-config' };

export const HELP = `Istio configuration command line utility for service operators to
debug and diagnose their Istio mesh.

This is the meshdrill local target's istioctl ${CLIENT_VERSION} subset: it reads the cluster from KUBECONFIG and
reaches istiod (:15014) and the proxies' admin port (:15000) at their pod IPs.

Usage:
  istioctl [command]

Available Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.help}`)
  .join('\n')}

Examples:
  istioctl proxy-status
  istioctl proxy-config cluster POD[.NAMESPACE] [--fqdn HOST] [--port N] [--subset S] [--direction inbound|outbound]
  istioctl proxy-config routes POD[.NAMESPACE] [--name 8080]
  istioctl proxy-config endpoints POD[.NAMESPACE] [--cluster NAME] [--port N] [--address IP] [--status HEALTHY]
  istioctl proxy-config secret POD[.NAMESPACE] -o json
  istioctl analyze -n NAMESPACE | -A
  istioctl version [--remote=false]
  istioctl install --set revision=canary [--set tag=VERSION] -y
  istioctl tag set prod --revision canary | istioctl tag list | istioctl tag remove prod
  istioctl uninstall --revision canary -y

Flags:
  -c, --kubeconfig string       Kubernetes configuration file (default: $KUBECONFIG)
      --context string          Kubernetes configuration context
  -i, --istioNamespace string   Istio system namespace (default "istio-system")
  -n, --namespace string        Kubernetes namespace
  -o, --output string           short|json|yaml (proxy-config), log|json|yaml (analyze)
  -A, --all-namespaces          Analyze all namespaces
  -h, --help                    help for istioctl
`;

/** Runs one istioctl invocation; returns the exit code. Never throws. */
export async function runIstioctl(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  try {
    const args = parseArgs(argv);
    const [first, ...rest] = args.positionals;
    if (first === undefined || first === 'help' || (flagTrue(args, 'help') && first === undefined)) {
      io.out(HELP);
      return 0;
    }
    const name = ALIASES[first] ?? first;
    const command = COMMANDS[name];
    if (!command) {
      io.err(`Error: unknown command "${first}" for "istioctl"\nRun 'istioctl --help' for usage.\n`);
      return 1;
    }
    if (flagTrue(args, 'help')) {
      io.out(`${command.help}\n\n${HELP}`);
      return 0;
    }
    const commandArgs = {
      positionals: rest,
      flags: args.flags,
      ...(args.repeated ? { repeated: args.repeated } : {}),
    };
    if (name === 'version' && !flagTrue(args, 'remote', true)) {
      return await command.run({
        access: undefined as never,
        args: commandArgs,
        io,
        namespace: 'default',
        istioNamespace: 'istio-system',
      });
    }
    const kubeconfig = resolveKubeconfig(env, args.flags.get('kubeconfig'));
    const access = openCluster(kubeconfig, args.flags.get('context'));
    return await command.run({
      access,
      kubeconfig,
      args: commandArgs,
      io,
      namespace: args.flags.get('namespace') ?? access.defaultNamespace,
      istioNamespace: args.flags.get('istioNamespace') ?? 'istio-system',
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`Error: ${error.message}\nRun 'istioctl --help' for usage.\n`);
      return 1;
    }
    if (error instanceof IstioctlError) {
      io.err(`Error: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`Error: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
