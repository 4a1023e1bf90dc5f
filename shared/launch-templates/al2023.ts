/**
 * Amazon Linux 2023: nodeadm reads every `application/node.eks.aws` part as a NodeConfig
 * and merges them (later documents win). We keep one NodeConfig: the user's documents
 * merged into the first (its comments and layout kept, edited through the yaml Document
 * API), with the cluster fields and the settings the caller passed set by us.
 */
import { Document, isMap, isSeq, parseAllDocuments } from 'yaml';
import { withoutLinuxBootstrap } from './al2.js';
import { LaunchTemplateValidationError } from '../errors.js';
import { chooseMaxPods, kubeletArgWords, mergeKubeletArgs, parseKubeletArgs } from './kubelet-flags.js';
import { type MimePart, userDataParts, writeMimeMultipart } from './mime.js';
import type { BootstrapTarget, RenderUserDataInput } from './types.js';

export const NODE_CONFIG_CONTENT_TYPE = 'application/node.eks.aws';
const API_VERSION = 'node.eks.aws/v1alpha1';

function isNodeConfigPart(part: MimePart): boolean {
  return part.contentType.toLowerCase().startsWith(NODE_CONFIG_CONTENT_TYPE);
}

function nodeConfigDocuments(part: MimePart): Document[] {
  const documents = parseAllDocuments(part.body);
  if (!Array.isArray(documents)) return [];
  for (const document of documents) {
    if (document.errors.length) {
      throw new LaunchTemplateValidationError([
        { rule: 'user-data-unparseable', message: `the NodeConfig in the user data is not valid YAML: ${document.errors[0]!.message}` },
      ]);
    }
  }
  return documents.filter((d) => d.contents !== null);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** nodeadm's merge: objects merge key by key, anything else is replaced. */
function mergeInto(document: Document, path: readonly string[], value: unknown): void {
  if (isRecord(value) && (path.length === 0 || isMap(document.getIn(path, true)))) {
    for (const [key, child] of Object.entries(value)) mergeInto(document, [...path, key], child);
  } else {
    document.setIn(path, value);
  }
}

function renderNodeConfigBody(document: Document): string {
  const text = document.toString();
  return text.startsWith('---') ? text : `---\n${text}`;
}

function ownNodeConfig(userDocuments: readonly Document[], input: RenderUserDataInput): string {
  const [first, ...rest] = userDocuments;
  const document = first?.clone() ?? new Document({ apiVersion: API_VERSION, kind: 'NodeConfig' });
  for (const other of rest) mergeInto(document, [], other.toJS());
  if (!document.has('apiVersion')) document.set('apiVersion', API_VERSION);
  if (!document.has('kind')) document.set('kind', 'NodeConfig');
  const { cluster } = input;
  document.setIn(['spec', 'cluster', 'name'], cluster.name);
  document.setIn(['spec', 'cluster', 'apiServerEndpoint'], cluster.endpoint);
  document.setIn(['spec', 'cluster', 'certificateAuthority'], cluster.certificateAuthority);
  document.setIn(['spec', 'cluster', 'cidr'], cluster.serviceIpv4Cidr);
  const theirMaxPods = document.getIn(['spec', 'kubelet', 'config', 'maxPods']);
  const maxPods = chooseMaxPods({ override: input.maxPodsOverride, userIsOurs: input.existingMaxPodsIsOurs, user: typeof theirMaxPods === 'number' ? theirMaxPods : undefined, computed: input.maxPods });
  if (maxPods !== undefined) document.setIn(['spec', 'kubelet', 'config', 'maxPods'], maxPods);
  if (Object.keys(input.labels ?? {}).length || input.taints?.length) {
    // the user's flags kept in place; labels and taints merged into theirs (same key: the caller's)
    const existing = document.getIn(['spec', 'kubelet', 'flags'], true);
    const theirs = isSeq(existing) ? (existing.toJSON() as unknown[]).map(String) : [];
    document.setIn(['spec', 'kubelet', 'flags'], kubeletArgWords(mergeKubeletArgs(parseKubeletArgs(theirs), { labels: input.labels, taints: input.taints })));
  }
  return renderNodeConfigBody(document);
}

/** A NodeConfig without spec.cluster (EKS supplies it), or nothing when nothing is left. */
function withoutCluster(document: Document): Document | undefined {
  const copy = document.clone();
  copy.deleteIn(['spec', 'cluster']);
  const spec = copy.get('spec');
  if (spec === null || (isMap(spec) && spec.items.length === 0)) copy.delete('spec');
  const value = copy.toJS() as unknown;
  const meaningful = isRecord(value) && Object.keys(value).some((k) => k !== 'apiVersion' && k !== 'kind');
  return meaningful ? copy : undefined;
}

export function renderAl2023(input: RenderUserDataInput): string {
  const userParts = withoutLinuxBootstrap(userDataParts(input.existing));
  if (input.mode === 'eks-merges') {
    const parts = userParts.flatMap((part) => {
      if (!isNodeConfigPart(part)) return [part];
      const kept = nodeConfigDocuments(part).map(withoutCluster).filter((d): d is Document => d !== undefined);
      return kept.length ? [{ ...part, body: kept.map(renderNodeConfigBody).join('') }] : [];
    });
    return parts.length ? writeMimeMultipart(parts) : '';
  }
  const userDocuments = userParts.filter(isNodeConfigPart).flatMap(nodeConfigDocuments);
  const ours: MimePart = { contentType: NODE_CONFIG_CONTENT_TYPE, body: ownNodeConfig(userDocuments, input) };
  const at = userParts.findIndex(isNodeConfigPart);
  const others = userParts.filter((p) => !isNodeConfigPart(p));
  // ours takes the place of the user's first NodeConfig; EKS, too, puts its NodeConfig first
  const parts = at < 0 ? [ours, ...others] : [...others.slice(0, at), ours, ...others.slice(at)];
  return writeMimeMultipart(parts);
}

/** The cluster the NodeConfig parts would join (nodeadm's merge: later documents win). */
export function readAl2023Bootstrap(parts: readonly MimePart[]): BootstrapTarget | undefined {
  const documents = parts.filter(isNodeConfigPart).flatMap(nodeConfigDocuments);
  let found = false;
  const target: BootstrapTarget = {};
  for (const document of documents) {
    const cluster = (document.toJS() as { spec?: { cluster?: Record<string, unknown> } } | null)?.spec?.cluster;
    if (!isRecord(cluster)) continue;
    found = true;
    if (typeof cluster.name === 'string') target.clusterName = cluster.name;
    if (typeof cluster.apiServerEndpoint === 'string') target.apiServerEndpoint = cluster.apiServerEndpoint;
    if (typeof cluster.certificateAuthority === 'string') target.certificateAuthority = cluster.certificateAuthority;
  }
  return found ? target : undefined;
}

/** Every NodeConfig of the parts merged as nodeadm merges them (later documents win), as plain data. */
export function mergedNodeConfig(parts: readonly MimePart[]): Record<string, unknown> {
  const merged = new Document({});
  for (const document of parts.filter(isNodeConfigPart).flatMap(nodeConfigDocuments)) mergeInto(merged, [], document.toJS());
  const value = merged.toJS() as unknown;
  return isRecord(value) ? value : {};
}
