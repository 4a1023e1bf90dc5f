/**
 * Bottlerocket: the user data is TOML settings. Full bootstrap sets the cluster settings
 * under [settings.kubernetes] and keeps every other table and key of the user's; when EKS
 * merges, the cluster settings are EKS's, so they are taken out.
 */
import { parse, stringify } from 'smol-toml';
import { LaunchTemplateValidationError } from '../errors.js';
import { chooseMaxPods, clusterDnsIp } from './kubelet-flags.js';
import type { BootstrapTarget, RenderUserDataInput } from './types.js';

type Table = Record<string, unknown>;

/** The settings EKS provides when it merges a managed node group's user data. */
export const EKS_PROVIDED_SETTINGS = ['api-server', 'cluster-certificate', 'cluster-name', 'cluster-dns-ip'] as const;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function parseSettings(raw: string | undefined): Table {
  if (raw === undefined || raw.trim() === '') return {};
  try {
    return parse(raw) as Table;
  } catch (error) {
    throw new LaunchTemplateValidationError(
      [{ rule: 'user-data-unparseable', message: `the Bottlerocket user data is not valid TOML: ${(error as Error).message.split('\n')[0]}` }],
      { cause: error },
    );
  }
}

function kubernetesTable(settings: Table): Table {
  const root = isTable(settings.settings) ? settings.settings : {};
  return isTable(root.kubernetes) ? root.kubernetes : {};
}

/** A copy of the user's settings with [settings.kubernetes] replaced by `kubernetes`. */
function withKubernetes(user: Table, kubernetes: Table): Table {
  const root = isTable(user.settings) ? user.settings : {};
  const settings: Table = { ...root, kubernetes };
  if (Object.keys(kubernetes).length === 0) delete settings.kubernetes;
  const out: Table = { ...user, settings };
  if (Object.keys(settings).length === 0) delete out.settings;
  return out;
}

export function renderBottlerocket(input: RenderUserDataInput): string {
  const user = parseSettings(input.existing);
  const kubernetes: Table = { ...kubernetesTable(user) };
  if (input.mode === 'eks-merges') {
    for (const key of EKS_PROVIDED_SETTINGS) delete kubernetes[key];
    const out = withKubernetes(user, kubernetes);
    return Object.keys(out).length ? stringify(out) : '';
  }
  const { cluster } = input;
  Object.assign(kubernetes, {
    'api-server': cluster.endpoint,
    'cluster-certificate': cluster.certificateAuthority,
    'cluster-name': cluster.name,
    'cluster-dns-ip': clusterDnsIp(cluster.serviceIpv4Cidr),
  });
  const theirs = kubernetes['max-pods'];
  const maxPods = chooseMaxPods({ override: input.maxPodsOverride, userIsOurs: input.existingMaxPodsIsOurs, user: typeof theirs === 'number' ? theirs : undefined, computed: input.maxPods });
  if (maxPods !== undefined) kubernetes['max-pods'] = maxPods;
  if (input.labels && Object.keys(input.labels).length) {
    const theirs = isTable(kubernetes['node-labels']) ? kubernetes['node-labels'] : {};
    kubernetes['node-labels'] = { ...theirs, ...input.labels };
  }
  if (input.taints?.length) {
    const taints: Record<string, string[]> = {};
    for (const t of input.taints) (taints[t.key] ??= []).push(`${t.value ?? ''}:${t.effect}`);
    const theirs = isTable(kubernetes['node-taints']) ? kubernetes['node-taints'] : {};
    kubernetes['node-taints'] = { ...theirs, ...taints };
  }
  return stringify(withKubernetes(user, kubernetes));
}

export function readBottlerocketBootstrap(raw: string): BootstrapTarget | undefined {
  const kubernetes = kubernetesTable(parseSettings(raw));
  const target: BootstrapTarget = {};
  if (typeof kubernetes['cluster-name'] === 'string') target.clusterName = kubernetes['cluster-name'];
  if (typeof kubernetes['api-server'] === 'string') target.apiServerEndpoint = kubernetes['api-server'];
  if (typeof kubernetes['cluster-certificate'] === 'string') target.certificateAuthority = kubernetes['cluster-certificate'];
  return Object.keys(target).length ? target : undefined;
}
