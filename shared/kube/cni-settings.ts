import type { CniSettings } from '../launch-templates/max-pods.js';
import type { V1DaemonSet } from './api-types.js';
import { callKube, kubeStatus, type KubeClients } from './client.js';

/** Where the VPC CNI keeps its settings: the `aws-node` DaemonSet's environment. */
export const AWS_NODE = { namespace: 'kube-system', name: 'aws-node' } as const;

export interface CniReading extends CniSettings {
  /** `aws-node` when read from it; `none` when the cluster runs no aws-node (another CNI): no VPC CNI setting applies */
  source: 'aws-node' | 'none';
}

/** The CNI settings max pods depends on, from the DaemonSet's containers (an env var set to `true`). */
export function cniSettingsOf(daemonSet: V1DaemonSet): CniSettings {
  const env = new Map((daemonSet.spec?.template?.spec?.containers ?? []).flatMap((c) => c.env ?? []).map((e) => [e.name, e.value] as const));
  const on = (name: string) => env.get(name)?.trim().toLowerCase() === 'true';
  return { prefixDelegation: on('ENABLE_PREFIX_DELEGATION'), customNetworking: on('AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG') };
}

/**
 * Reads prefix delegation and custom networking from the cluster (RBAC: `daemonsets get` on
 * kube-system/aws-node). No aws-node at all (404) means no VPC CNI: both off. Access denied is
 * an error, never read as "off": a wrong max-pods is what this read exists to prevent.
 */
export async function readCniSettings(kube: Pick<KubeClients, 'apps'>, cluster: string): Promise<CniReading> {
  const apps = await kube.apps(cluster);
  try {
    const daemonSet = await callKube(cluster, `read ${AWS_NODE.namespace}/${AWS_NODE.name}`, () => apps.readNamespacedDaemonSet(AWS_NODE));
    return { ...cniSettingsOf(daemonSet), source: 'aws-node' };
  } catch (error) {
    if (kubeStatus(error) === 404) return { prefixDelegation: false, customNetworking: false, source: 'none' };
    throw error;
  }
}
