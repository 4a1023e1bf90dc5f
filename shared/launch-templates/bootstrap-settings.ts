/**
 * What a user data's bootstrap sets, as flat `setting → value` pairs, the same way for every
 * family: AL2 bootstrap.sh arguments, AL2023 NodeConfig fields (nodeadm's merge), Bottlerocket
 * settings, Start-EKSBootstrap.ps1 parameters; kubelet arguments one by one (`kubelet --max-pods`).
 * Two versions compared this way show what a rollout changes beyond the image (the preview),
 * and let a test hold the renderers to "the image, the cluster's facts and what was asked".
 */
import { readAl2BootstrapArgs } from './al2.js';
import { mergedNodeConfig } from './al2023.js';
import { parseSettings } from './bottlerocket.js';
import { kubeletArgumentWords, parseKubeletArgs } from './kubelet-flags.js';
import { userDataParts } from './mime.js';
import type { NodeImageFamily } from './types.js';
import { readWindowsBootstrapParameters } from './windows.js';

export type BootstrapSettings = Record<string, string>;

export interface BootstrapChange {
  setting: string;
  /** absent: the setting is new */
  from?: string;
  /** absent: the setting is gone */
  to?: string;
}

function addKubeletArgs(out: BootstrapSettings, words: readonly string[]): void {
  for (const arg of parseKubeletArgs(words)) {
    const key = `kubelet ${arg.name}`;
    const value = arg.value ?? 'true';
    out[key] = out[key] === undefined ? value : `${out[key]} ${value}`;
  }
}

function flatten(out: BootstrapSettings, prefix: string, value: unknown): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) flatten(out, prefix ? `${prefix}.${k}` : k, v);
  } else {
    out[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
  }
}

export function readBootstrapSettings(family: NodeImageFamily, userDataDecoded: string): BootstrapSettings {
  const out: BootstrapSettings = {};
  switch (family) {
    case 'al2': {
      for (const arg of readAl2BootstrapArgs(userDataParts(userDataDecoded)) ?? []) {
        if (arg.flag === undefined) out['cluster-name'] ??= arg.value;
        else if (arg.flag === '--kubelet-extra-args') addKubeletArgs(out, kubeletArgumentWords(arg.value));
        else out[arg.flag] = arg.value;
      }
      break;
    }
    case 'al2023': {
      const config = mergedNodeConfig(userDataParts(userDataDecoded));
      const { flags, ...kubelet } = ((config.spec as Record<string, unknown> | undefined)?.kubelet ?? {}) as Record<string, unknown>;
      flatten(out, 'spec', { ...(config.spec as object), kubelet });
      if (Array.isArray(flags)) addKubeletArgs(out, flags.map(String));
      break;
    }
    case 'bottlerocket':
      flatten(out, 'settings', parseSettings(userDataDecoded).settings ?? {});
      break;
    case 'windows': {
      for (const p of readWindowsBootstrapParameters(userDataDecoded) ?? []) {
        if (p.name.toLowerCase() === 'kubeletextraargs') addKubeletArgs(out, kubeletArgumentWords(p.value ?? ''));
        else out[`-${p.name}`] = p.value ?? 'true';
      }
      break;
    }
  }
  return out;
}

/** The settings that differ, in the order they first appear. */
export function diffBootstrapSettings(before: BootstrapSettings, after: BootstrapSettings): BootstrapChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys
    .filter((k) => before[k] !== after[k])
    .map((setting) => ({ setting, ...(before[setting] !== undefined ? { from: before[setting] } : {}), ...(after[setting] !== undefined ? { to: after[setting] } : {}) }));
}

/** `kubelet --max-pods 29 → 110`, one change a clause, for the preview. */
export function describeBootstrapChanges(changes: readonly BootstrapChange[]): string {
  const short = (v: string) => (v.length > 60 ? `${v.slice(0, 28)}…${v.slice(-28)}` : v);
  return changes
    .map((c) => (c.from === undefined ? `${c.setting} set to ${short(c.to!)}` : c.to === undefined ? `${c.setting} ${short(c.from)} removed` : `${c.setting} ${short(c.from)} → ${short(c.to)}`))
    .join('; ');
}
