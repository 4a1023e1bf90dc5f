import { RESOURCES, type ResourceInfo } from './resources.js';

/**
 * The discovery documents clients read before anything else: kubectl maps `get no` or
 * `cordon` to a REST path with them, and `kubectl drain` looks for the `pods/eviction`
 * subresource in group policy/v1 to decide that it may evict. Served in the legacy format
 * (kubectl falls back to it when the aggregated format is not offered).
 */

export function versionInfo(version: string): Record<string, string> {
  const [major = '1', minor = '31'] = version.split('.');
  return {
    major,
    minor,
    gitVersion: `v${major}.${minor}.4-eks-2d5f260`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-07T04:44:03Z',
    goVersion: 'go1.22.10',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

const GROUPS = ['apps', 'policy'] as const;

function group(name: string): unknown {
  const version = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [version], preferredVersion: version };
}

export function groupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(group) };
}

export function apiGroup(name: string): unknown | undefined {
  return (GROUPS as readonly string[]).includes(name) ? { kind: 'APIGroup', apiVersion: 'v1', ...(group(name) as object) } : undefined;
}

function entry(info: ResourceInfo): Record<string, unknown> {
  return {
    name: info.name,
    singularName: info.singularName,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: info.verbs,
    ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
    ...(info.categories ? { categories: info.categories } : {}),
  };
}

function statusOf(info: ResourceInfo): Record<string, unknown> {
  return { name: `${info.name}/status`, singularName: '', namespaced: info.namespaced, kind: info.kind, verbs: ['get', 'patch', 'update'] };
}

/** APIResourceList for a group version ('' is the core group). */
export function resourceList(groupName: string, version: string): unknown | undefined {
  if (version !== 'v1' || (groupName !== '' && !(GROUPS as readonly string[]).includes(groupName))) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const info of Object.values(RESOURCES).filter((r) => r.group === groupName)) {
    resources.push(entry(info));
    if (info.hasStatus) resources.push(statusOf(info));
    if (info.name === 'pods') {
      resources.push({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    }
  }
  resources.sort((a, b) => String(a['name']).localeCompare(String(b['name'])));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupName === '' ? 'v1' : `${groupName}/v1`, resources };
}
