/**
 * Reads an instance's user data the way the node's own boot tooling would, and says what
 * it would try to join: nodeadm (AL2023), bootstrap.sh (AL2), the Bottlerocket settings
 * API, Start-EKSBootstrap.ps1 (Windows). Real parsers: postal-mime for MIME, yaml, smol-toml.
 *
 * The result is an intent plus the problems that would stop the boot before the node ever
 * talks to a cluster; matching it against a real cluster is the kubelet's job.
 */
import PostalMime from 'postal-mime';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import type { AmiFamily } from './ec2-records';
import type { KubeTaint } from './node-registry';

export interface BootstrapIntent {
  family: AmiFamily;
  clusterName?: string;
  apiServerEndpoint?: string;
  certificateAuthority?: string;
  labels: Record<string, string>;
  taints: KubeTaint[];
  maxPods?: number;
  /** Why the boot tooling would stop; empty when it would try to join. */
  problems: string[];
}

export async function readBootstrap(family: AmiFamily, userDataBase64: string | undefined): Promise<BootstrapIntent> {
  const intent: BootstrapIntent = { family, labels: {}, taints: [], problems: [] };
  if (!userDataBase64) {
    intent.problems.push('the instance has no user data, so nothing configures the node to join a cluster');
    return intent;
  }
  const raw = Buffer.from(userDataBase64, 'base64').toString('utf8');
  switch (family) {
    case 'al2023': await readNodeadm(raw, intent); break;
    case 'al2': await readBootstrapSh(raw, intent); break;
    case 'bottlerocket': readBottlerocket(raw, intent); break;
    case 'windows': readWindows(raw, intent); break;
  }
  return intent;
}

// ---- MIME ----

interface Part {
  contentType: string;
  body: string;
}

async function mimeParts(raw: string): Promise<Part[] | undefined> {
  if (!/^MIME-Version:/im.test(raw.split(/\r?\n\r?\n/)[0] ?? '') && !/^Content-Type:\s*multipart\//im.test(raw)) return undefined;
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'utf8' });
  const parts: Part[] = email.attachments.map((a) => ({
    contentType: a.mimeType.toLowerCase(),
    body: typeof a.content === 'string' ? a.content : new TextDecoder().decode(a.content),
  }));
  // postal-mime keeps text/plain parts as the message text rather than as attachments
  if (email.text?.trim()) parts.push({ contentType: 'text/plain', body: email.text });
  return parts;
}

// ---- AL2023: nodeadm ----

async function readNodeadm(raw: string, intent: BootstrapIntent): Promise<void> {
  const parts = await mimeParts(raw);
  const documents: string[] = parts
    ? parts.filter((p) => p.contentType.startsWith('application/node.eks.aws')).map((p) => p.body)
    : raw.includes('kind: NodeConfig') ? [raw] : [];
  const scripts = parts ? parts.filter((p) => p.contentType.startsWith('text/x-shellscript')).map((p) => p.body) : raw.startsWith('#!') ? [raw] : [];
  if (documents.length === 0) {
    intent.problems.push(
      scripts.some((s) => s.includes('/etc/eks/bootstrap.sh'))
        ? 'AL2023 has no /etc/eks/bootstrap.sh: nodeadm only reads a NodeConfig (MIME part application/node.eks.aws)'
        : 'no NodeConfig in the user data (nodeadm reads MIME parts of type application/node.eks.aws)',
    );
    return;
  }
  // nodeadm merges every NodeConfig it finds; later documents win
  let merged: Record<string, unknown> = {};
  for (const text of documents) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) {
        intent.problems.push(`nodeadm could not parse the NodeConfig: ${doc.errors[0]!.message}`);
        return;
      }
      const value = doc.toJS() as Record<string, unknown> | null;
      if (!value) continue;
      if (value.kind !== 'NodeConfig' || !/^node\.eks\.aws\/v1(alpha1|beta1)$/.test(String(value.apiVersion))) {
        intent.problems.push(`nodeadm does not understand ${String(value.apiVersion)} ${String(value.kind)}`);
        return;
      }
      merged = deepMerge(merged, value);
    }
  }
  const spec = (merged.spec ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const cluster = spec.cluster ?? {};
  for (const field of ['name', 'apiServerEndpoint', 'certificateAuthority', 'cidr']) {
    if (!cluster[field]) intent.problems.push(`nodeadm: NodeConfig is missing spec.cluster.${field}`);
  }
  setIf(intent, 'clusterName', cluster.name);
  setIf(intent, 'apiServerEndpoint', cluster.apiServerEndpoint);
  setIf(intent, 'certificateAuthority', cluster.certificateAuthority);
  const kubelet = spec.kubelet ?? {};
  const config = (kubelet.config ?? {}) as Record<string, unknown>;
  if (typeof config.maxPods === 'number') intent.maxPods = config.maxPods;
  for (const taint of (config.registerWithTaints ?? []) as KubeTaint[]) intent.taints.push(taint);
  applyKubeletFlags((kubelet.flags ?? []) as string[], intent);
}

// ---- AL2: bootstrap.sh ----

const BOOTSTRAP_FLAGS_WITHOUT_VALUE = new Set<string>();

/** The kubelet's --max-pods when nothing sets it. */
const KUBELET_DEFAULT_MAX_PODS = 110;

async function readBootstrapSh(raw: string, intent: BootstrapIntent): Promise<void> {
  const parts = await mimeParts(raw);
  const scripts = parts
    ? parts.filter((p) => p.contentType.startsWith('text/x-shellscript') || p.body.startsWith('#!')).map((p) => p.body)
    : [raw];
  for (const script of scripts) {
    const variables = new Map<string, string>();
    for (const line of logicalLines(script)) {
      const assignment = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
      if (assignment) {
        variables.set(assignment[1]!, shellWords(assignment[2]!, variables).join(' '));
        continue;
      }
      if (!line.includes('/etc/eks/bootstrap.sh')) continue;
      const words = shellWords(line, variables);
      const args = words.slice(words.findIndex((w) => w.endsWith('/etc/eks/bootstrap.sh')) + 1);
      const flags = new Map<string, string>();
      const positional: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg.startsWith('--')) {
          const [flag, inline] = arg.split(/=(.*)/s);
          if (inline !== undefined) flags.set(flag!, inline);
          else if (BOOTSTRAP_FLAGS_WITHOUT_VALUE.has(flag!)) flags.set(flag!, 'true');
          else flags.set(flag!, args[++i] ?? '');
        } else if (/^[0-9]?[<>|&;]/.test(arg)) {
          break;
        } else {
          positional.push(arg);
        }
      }
      if (!positional[0]) {
        intent.problems.push('bootstrap.sh is called without a cluster name');
        return;
      }
      intent.clusterName = positional[0];
      setIf(intent, 'apiServerEndpoint', flags.get('--apiserver-endpoint'));
      setIf(intent, 'certificateAuthority', flags.get('--b64-cluster-ca'));
      const extra = flags.get('--kubelet-extra-args');
      if (extra) applyKubeletFlags(shellWords(extra, variables), intent);
      // `--use-max-pods false` leaves max pods out of the kubelet's config: the kubelet's own default
      if (intent.maxPods === undefined && flags.get('--use-max-pods') === 'false') intent.maxPods = KUBELET_DEFAULT_MAX_PODS;
      return;
    }
  }
  intent.problems.push('the user data never runs /etc/eks/bootstrap.sh');
}

/** Joins backslash-continued lines, drops comments. */
function logicalLines(script: string): string[] {
  return script
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .filter((l) => !l.trim().startsWith('#'));
}

/** Shell word splitting with quotes and `$VAR` / `${VAR}` expansion (enough for user data). */
function shellWords(text: string, variables: ReadonlyMap<string, string>): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  const expand = (i: number): [string, number] => {
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text.slice(i));
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
    const m = braced ?? plain;
    if (!m) return ['$', i + 1];
    return [variables.get(m[1]!) ?? '', i + m[0].length];
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
      i++;
    } else if (quote === '"') {
      if (c === '"') { quote = undefined; i++; }
      else if (c === '$') { const [v, next] = expand(i); current += v; i = next; }
      else if (c === '\\' && i + 1 < text.length) { current += text[i + 1]; i += 2; }
      else { current += c; i++; }
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      i++;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      i++;
    } else if (c === '$') {
      const [v, next] = expand(i);
      current += v;
      inWord = true;
      i = next;
    } else {
      current += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(current);
  return words;
}

// ---- Bottlerocket ----

function readBottlerocket(raw: string, intent: BootstrapIntent): void {
  let settings: Record<string, unknown>;
  try {
    settings = parseToml(raw) as Record<string, unknown>;
  } catch (error) {
    intent.problems.push(`Bottlerocket could not parse the user data as TOML settings: ${(error as Error).message.split('\n')[0]}`);
    return;
  }
  const kubernetes = ((settings.settings as Record<string, unknown> | undefined)?.kubernetes ?? {}) as Record<string, unknown>;
  for (const field of ['cluster-name', 'api-server', 'cluster-certificate']) {
    if (!kubernetes[field]) intent.problems.push(`Bottlerocket settings lack settings.kubernetes.${field}`);
  }
  setIf(intent, 'clusterName', kubernetes['cluster-name']);
  setIf(intent, 'apiServerEndpoint', kubernetes['api-server']);
  setIf(intent, 'certificateAuthority', kubernetes['cluster-certificate']);
  if (typeof kubernetes['max-pods'] === 'number') intent.maxPods = kubernetes['max-pods'];
  for (const [k, v] of Object.entries((kubernetes['node-labels'] ?? {}) as Record<string, unknown>)) intent.labels[k] = String(v);
  for (const [key, value] of Object.entries((kubernetes['node-taints'] ?? {}) as Record<string, unknown>)) {
    for (const entry of Array.isArray(value) ? value : [value]) {
      const [taintValue, effect] = String(entry).split(':');
      intent.taints.push({ key, ...(taintValue ? { value: taintValue } : {}), effect: effect as KubeTaint['effect'] });
    }
  }
}

// ---- Windows ----

function readWindows(raw: string, intent: BootstrapIntent): void {
  const block = /<powershell>([\s\S]*?)<\/powershell>/i.exec(raw)?.[1];
  if (block === undefined) {
    intent.problems.push('Windows user data has no <powershell> block, so EC2Launch runs nothing');
    return;
  }
  const variables = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const assignment = /^\s*(?:\[[^\]]+\])?\$([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(line);
    if (assignment) {
      variables.set(assignment[1]!.toLowerCase(), psWords(assignment[2]!, variables).join(' '));
      continue;
    }
    if (!/-EKSClusterName\b/i.test(line)) continue;
    const words = psWords(line, variables);
    if (!words.some((w) => /Start-EKSBootstrap\.ps1$/i.test(w))) {
      intent.problems.push('the bootstrap line does not run Start-EKSBootstrap.ps1');
      return;
    }
    const params = new Map<string, string>();
    for (let i = 0; i < words.length; i++) {
      if (/^-[A-Za-z]+$/.test(words[i]!)) params.set(words[i]!.slice(1).toLowerCase(), words[i + 1] ?? '');
    }
    setIf(intent, 'clusterName', params.get('eksclustername'));
    setIf(intent, 'apiServerEndpoint', params.get('apiserverendpoint'));
    setIf(intent, 'certificateAuthority', params.get('base64clusterca'));
    const extra = params.get('kubeletextraargs');
    // the kubelet's service gets the string as arguments: quotes group, as in a shell
    if (extra) applyKubeletFlags(shellWords(extra, new Map()), intent);
    if (!intent.clusterName) intent.problems.push('Start-EKSBootstrap.ps1 is called without -EKSClusterName');
    return;
  }
  intent.problems.push('the user data never calls Start-EKSBootstrap.ps1');
}

/** PowerShell-ish words: quotes, `$var` / `$env:X` expansion in double quotes. */
function psWords(text: string, variables: ReadonlyMap<string, string>): string[] {
  const words: string[] = [];
  const re = /"((?:[^"`]|`.)*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined) words.push(m[1].replace(/\$(env:)?([A-Za-z_][A-Za-z0-9_]*)/g, (all, env, name: string) => (env ? `C:\\Program Files` : variables.get(name.toLowerCase()) ?? all)));
    else if (m[2] !== undefined) words.push(m[2]);
    else if (m[3]!.startsWith('$')) words.push(variables.get(m[3]!.slice(1).toLowerCase()) ?? m[3]!);
    else words.push(m[3]!);
  }
  return words;
}

// ---- shared ----

function applyKubeletFlags(flags: readonly string[], intent: BootstrapIntent): void {
  for (const flag of flags) {
    const [name, value = ''] = flag.split(/=(.*)/s);
    if (name === '--node-labels') {
      for (const pair of value.split(',').filter(Boolean)) {
        const [k, v = ''] = pair.split('=');
        intent.labels[k!] = v;
      }
    } else if (name === '--register-with-taints') {
      for (const spec of value.split(',').filter(Boolean)) {
        const [keyValue, effect] = spec.split(':');
        const [key, taintValue] = keyValue!.split('=');
        intent.taints.push({ key: key!, ...(taintValue !== undefined ? { value: taintValue } : {}), effect: effect as KubeTaint['effect'] });
      }
    } else if (name === '--max-pods') {
      intent.maxPods = Number(value);
    }
  }
}

function setIf(intent: BootstrapIntent, field: 'clusterName' | 'apiServerEndpoint' | 'certificateAuthority', value: unknown): void {
  if (typeof value === 'string' && value !== '') intent[field] = value;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
