import type { NodeTaint } from './types.js';

/** The cluster DNS service IP EKS assigns: .10 of the service CIDR. */
export function clusterDnsIp(serviceIpv4Cidr: string): string {
  const [address = ''] = serviceIpv4Cidr.split('/');
  const octets = address.split('.');
  if (octets.length !== 4) throw new TypeError(`not an IPv4 CIDR: ${serviceIpv4Cidr}`);
  octets[3] = '10';
  return octets.join('.');
}

export function nodeLabelsFlag(labels: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(labels ?? {});
  return entries.length ? `--node-labels=${entries.map(([k, v]) => `${k}=${v}`).join(',')}` : undefined;
}

export function registerWithTaintsFlag(taints: readonly NodeTaint[] | undefined): string | undefined {
  return taints?.length
    ? `--register-with-taints=${taints.map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`).join(',')}`
    : undefined;
}

/** kubelet flags for the families whose bootstrap takes a flag string (AL2, Windows). */
export function kubeletExtraArgs(options: { maxPods?: number; labels?: Record<string, string>; taints?: readonly NodeTaint[] }): string[] {
  return [
    options.maxPods !== undefined ? `--max-pods=${options.maxPods}` : undefined,
    nodeLabelsFlag(options.labels),
    registerWithTaintsFlag(options.taints),
  ].filter((f): f is string => f !== undefined);
}
