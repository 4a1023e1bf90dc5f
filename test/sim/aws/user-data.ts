/**
 * User data that really bootstraps a node, per AMI family, in the formats AWS documents:
 * AL2023 nodeadm NodeConfig in a MIME part, AL2 `/etc/eks/bootstrap.sh`, Bottlerocket TOML
 * settings, Windows `Start-EKSBootstrap.ps1`. The sandbox's builders use these for
 * self-managed groups, and EKS uses them (merged with the user's) for managed node groups.
 */
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { stringify as stringifyYaml } from 'yaml';
import type { AmiFamily } from './ec2-records';
import type { KubeTaint } from './node-registry';

export interface ClusterConnection {
  name: string;
  endpoint: string;
  certificateAuthority: string;
  serviceIpv4Cidr: string;
}

export interface NodeOptions {
  labels?: Record<string, string>;
  taints?: KubeTaint[];
  maxPods?: number;
}

export const MIME_BOUNDARY = '//';

/** The cluster DNS service IP: .10 of the service CIDR, as EKS assigns it. */
export function clusterDnsIp(serviceIpv4Cidr: string): string {
  const [address] = serviceIpv4Cidr.split('/');
  const octets = address!.split('.');
  octets[3] = '10';
  return octets.join('.');
}

function labelFlag(labels: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(labels ?? {});
  return entries.length ? `--node-labels=${entries.map(([k, v]) => `${k}=${v}`).join(',')}` : undefined;
}

function taintFlag(taints: KubeTaint[] | undefined): string | undefined {
  return taints?.length ? `--register-with-taints=${taints.map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`).join(',')}` : undefined;
}

function kubeletFlags(options: NodeOptions): string[] {
  return [labelFlag(options.labels), taintFlag(options.taints)].filter((f): f is string => f !== undefined);
}

export function nodeConfigYaml(cluster: ClusterConnection, options: NodeOptions = {}): string {
  const flags = kubeletFlags(options);
  const config = {
    apiVersion: 'node.eks.aws/v1alpha1',
    kind: 'NodeConfig',
    spec: {
      cluster: {
        name: cluster.name,
        apiServerEndpoint: cluster.endpoint,
        certificateAuthority: cluster.certificateAuthority,
        cidr: cluster.serviceIpv4Cidr,
      },
      ...(flags.length || options.maxPods !== undefined
        ? {
            kubelet: {
              ...(options.maxPods !== undefined ? { config: { maxPods: options.maxPods } } : {}),
              ...(flags.length ? { flags } : {}),
            },
          }
        : {}),
    },
  };
  return `---\n${stringifyYaml(config)}`;
}

export interface MimePart {
  contentType: string;
  body: string;
}

export function mimeMultipart(parts: readonly MimePart[]): string {
  const lines = ['MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${MIME_BOUNDARY}"`, ''];
  for (const part of parts) {
    lines.push(`--${MIME_BOUNDARY}`, `Content-Type: ${part.contentType}`, '', part.body.replace(/\n$/, ''), '');
  }
  lines.push(`--${MIME_BOUNDARY}--`, '');
  return lines.join('\n');
}

export function al2023UserData(cluster: ClusterConnection, options: NodeOptions = {}): string {
  return mimeMultipart([{ contentType: 'application/node.eks.aws', body: nodeConfigYaml(cluster, options) }]);
}

export function al2BootstrapLine(cluster: ClusterConnection, options: NodeOptions = {}): string {
  const extra = kubeletFlags(options);
  if (options.maxPods !== undefined) extra.push(`--max-pods=${options.maxPods}`);
  return [
    '/etc/eks/bootstrap.sh',
    cluster.name,
    `--apiserver-endpoint '${cluster.endpoint}'`,
    `--b64-cluster-ca '${cluster.certificateAuthority}'`,
    `--dns-cluster-ip ${clusterDnsIp(cluster.serviceIpv4Cidr)}`,
    ...(options.maxPods !== undefined ? ['--use-max-pods false'] : []),
    ...(extra.length ? [`--kubelet-extra-args '${extra.join(' ')}'`] : []),
  ].join(' ');
}

export function al2UserData(cluster: ClusterConnection, options: NodeOptions = {}): string {
  return `#!/bin/bash\nset -o xtrace\n${al2BootstrapLine(cluster, options)}\n`;
}

export function bottlerocketSettings(cluster: ClusterConnection, options: NodeOptions = {}): Record<string, unknown> {
  const taints: Record<string, string[]> = {};
  for (const t of options.taints ?? []) (taints[t.key] ??= []).push(`${t.value ?? ''}:${t.effect}`);
  return {
    'cluster-name': cluster.name,
    'api-server': cluster.endpoint,
    'cluster-certificate': cluster.certificateAuthority,
    'cluster-dns-ip': clusterDnsIp(cluster.serviceIpv4Cidr),
    ...(options.maxPods !== undefined ? { 'max-pods': options.maxPods } : {}),
    ...(options.labels && Object.keys(options.labels).length ? { 'node-labels': { ...options.labels } } : {}),
    ...(Object.keys(taints).length ? { 'node-taints': taints } : {}),
  };
}

export function bottlerocketUserData(cluster: ClusterConnection, options: NodeOptions = {}): string {
  return stringifyToml({ settings: { kubernetes: bottlerocketSettings(cluster, options) } });
}

export function windowsBootstrapLines(cluster: ClusterConnection, options: NodeOptions = {}): string[] {
  const extra = kubeletFlags(options);
  if (options.maxPods !== undefined) extra.push(`--max-pods=${options.maxPods}`);
  return [
    '[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1"',
    `& $EKSBootstrapScriptFile -EKSClusterName "${cluster.name}" -APIServerEndpoint "${cluster.endpoint}" -Base64ClusterCA "${cluster.certificateAuthority}" -DNSClusterIP "${clusterDnsIp(cluster.serviceIpv4Cidr)}"${extra.length ? ` -KubeletExtraArgs "${extra.join(' ')}"` : ''} 3>&1 4>&1 5>&1 6>&1`,
  ];
}

export function windowsUserData(cluster: ClusterConnection, options: NodeOptions = {}): string {
  return ['<powershell>', ...windowsBootstrapLines(cluster, options), '</powershell>', ''].join('\n');
}

/** User data that joins `cluster` on an image of `family` (raw, not base64). */
export function bootstrapUserData(family: AmiFamily, cluster: ClusterConnection, options: NodeOptions = {}): string {
  switch (family) {
    case 'al2023': return al2023UserData(cluster, options);
    case 'al2': return al2UserData(cluster, options);
    case 'bottlerocket': return bottlerocketUserData(cluster, options);
    case 'windows': return windowsUserData(cluster, options);
  }
}

/**
 * What EKS does to a managed node group's launch template user data when it supplies the
 * AMI: the user's content runs first, then EKS's own bootstrap (AL2, AL2023 as MIME parts;
 * Bottlerocket as merged settings; Windows inside the one `<powershell>` block).
 */
export function mergeManagedUserData(family: AmiFamily, userRaw: string | undefined, cluster: ClusterConnection, options: NodeOptions): string {
  switch (family) {
    case 'al2023':
    case 'al2': {
      const own: MimePart = family === 'al2023'
        ? { contentType: 'application/node.eks.aws', body: nodeConfigYaml(cluster, options) }
        : { contentType: 'text/x-shellscript; charset="us-ascii"', body: `#!/bin/bash\nset -ex\n${al2BootstrapLine(cluster, options)}\n` };
      const userParts = userRaw === undefined || userRaw.trim() === '' ? [] : splitMimeParts(userRaw);
      return mimeMultipart(family === 'al2023' ? [own, ...userParts] : [...userParts, own]);
    }
    case 'bottlerocket': {
      const user = userRaw ? (parseToml(userRaw) as Record<string, unknown>) : {};
      const settings = (user.settings ?? {}) as Record<string, unknown>;
      const kubernetes = (settings.kubernetes ?? {}) as Record<string, unknown>;
      return stringifyToml({ ...user, settings: { ...settings, kubernetes: { ...kubernetes, ...bottlerocketSettings(cluster, options) } } });
    }
    case 'windows': {
      const body = userRaw ? (/<powershell>([\s\S]*?)<\/powershell>/.exec(userRaw)?.[1] ?? userRaw).trim() : '';
      return ['<powershell>', ...(body ? [body] : []), ...windowsBootstrapLines(cluster, options), '</powershell>', ''].join('\n');
    }
  }
}

/**
 * Splits MIME multipart text into parts with a small, strict reader (the sandbox's own
 * format and what users paste), or wraps a non-MIME script as one part.
 */
export function splitMimeParts(raw: string): MimePart[] {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  if (!/^MIME-Version:/im.test(raw) || !boundary) {
    const contentType = raw.startsWith('#!') ? 'text/x-shellscript; charset="us-ascii"' : raw.includes('kind: NodeConfig') ? 'application/node.eks.aws' : 'text/plain';
    return [{ contentType, body: raw }];
  }
  return raw
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith('--'))
    .map((chunk) => {
      const [head, ...rest] = chunk.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
      const contentType = /Content-Type:\s*([^\r\n]+)/i.exec(head ?? '')?.[1]?.trim() ?? 'text/plain';
      return { contentType, body: rest.join('\n\n') };
    });
}

export function toBase64(raw: string): string {
  return Buffer.from(raw, 'utf8').toString('base64');
}

export function fromBase64(encoded: string): string {
  return Buffer.from(encoded, 'base64').toString('utf8');
}
