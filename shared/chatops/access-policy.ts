import * as z from 'zod/mini';
import { type Place, placeKey } from '../aws/places.js';
import { ACCOUNT_ID, CLUSTER_NAME, REGION } from '../ids.js';
import { ConfigurationError } from '../errors.js';
import { issuesOf } from '../schema-issues.js';
import type { AccessLevel, Principal } from './types.js';
import { principalMention } from './mentions.js';

/**
 * Who may do what on which cluster from chat-ops (Slack, Amazon Q, the CLI). The operator
 * keeps the policy as JSON (in SSM Parameter Store); it is parsed once, and every decision
 * here is pure, so the same rules answer in every way in.
 *
 * Subjects (who a grant is for):
 * - `*` — anyone;
 * - `slack:<team>:<user>` — that Slack user of that workspace (`T…`), or of that Enterprise
 *   Grid org (`E…`);
 * - `iam:<arn>` — that IAM caller exactly, or, with a trailing `*`, every ARN it starts;
 * - `channel:<team>:<channel id>` — anyone asking from that Slack channel of that workspace;
 * - `group:<name>` — the members of one of the policy's `groups` (no nesting).
 *
 * A cluster's entry is its own key, else `*`, else none (nothing allowed): entries are never
 * merged, so a cluster that has its own entry gets nothing from `*`.
 *
 * Member accounts (README "Member accounts"): a key may name a place, `<account>/<region>/<cluster>`,
 * any part of it `*` (`*\/*\/prod`: every `prod`; `444455556666/*\/*`: all of one account). A
 * bare name (`prod`) and a bare `*` mean the hub's own clusters only, never a member's. Why:
 * a policy written before members were added granted what its author could see, the hub's
 * clusters; reading `prod` as "every prod" would hand a member's `prod` to whoever runs the
 * hub's, silently, the day that member is listed — a grant nobody wrote. Granting a member's
 * cluster takes a key that names places. The entry of a cluster is, most specific first:
 * 1. the key naming it exactly with its place (`444455556666/eu-west-1/prod`);
 * 2. for the hub's own, its bare name (`prod`);
 * 3. the place patterns that match it, the one with the most named parts first (a named
 *    cluster counts above a named account, which counts above a named region);
 * 4. for the hub's own, `*`;
 * else none. Still never merged: the first entry found is the whole answer.
 *
 * Slack subjects always name the workspace: the same app installed in another workspace
 * signs that workspace's requests with the same secret, and Slack ids are only unique per
 * workspace, so an unqualified `slack:U0BOB` or `channel:C0OPS` could be matched by a
 * stranger. Such a grant is a configuration problem, never read as "any workspace". `act` implies `read`;
 * `approve` implies `read` but not `act` (an approver need not be able to start rollouts).
 */

const SLACK_ID = /^[A-Z0-9]+$/;
const SLACK_TEAM = /^[TE][A-Z0-9]+$/;
const GROUP_NAME = /^[A-Za-z0-9_.-]+$/;
const LEVELS = ['read', 'act', 'approve'] as const satisfies readonly AccessLevel[];

/** Why a subject string is malformed, or undefined when it is one of the known forms. */
function subjectProblem(subject: string, inGroup: boolean): string | undefined {
  if (subject === '*') return undefined;
  const colon = subject.indexOf(':');
  const kind = colon < 0 ? subject : subject.slice(0, colon);
  const rest = colon < 0 ? '' : subject.slice(colon + 1);
  switch (kind) {
    case 'slack': {
      const parts = rest.split(':');
      if (parts.length === 1 && SLACK_ID.test(rest)) return `"${subject}" names no workspace: write slack:<team id>:${rest} (a user of another workspace where the app is installed could have the same id)`;
      if (parts.length !== 2 || !SLACK_TEAM.test(parts[0]!) || !SLACK_ID.test(parts[1]!)) return `"${subject}" is not slack:<team id>:<user id> (like slack:T0123ABC:U0456DEF)`;
      return undefined;
    }
    case 'iam': {
      const star = rest.indexOf('*');
      if (!rest.startsWith('arn:')) return `"${subject}" is not iam:<arn>`;
      if (star >= 0 && star !== rest.length - 1) return `"${subject}": "*" is only allowed at the end of an IAM ARN`;
      return undefined;
    }
    case 'channel': {
      const parts = rest.split(':');
      if (parts.length === 1 && SLACK_ID.test(rest)) return `"${subject}" names no workspace: write channel:<team id>:${rest}`;
      if (parts.length !== 2 || !SLACK_TEAM.test(parts[0]!) || !SLACK_ID.test(parts[1]!)) return `"${subject}" is not channel:<team id>:<channel id> (like channel:T0123ABC:C0123ABC)`;
      return undefined;
    }
    case 'group':
      if (inGroup) return `"${subject}": a group cannot contain a group`;
      return GROUP_NAME.test(rest) ? undefined : `"${subject}" is not group:<name>`;
    default:
      return `"${subject}" is not a known subject (*, slack:…, iam:…, channel:…, group:…)`;
  }
}

const subject = (inGroup: boolean) =>
  z.string().check((ctx) => {
    const problem = subjectProblem(ctx.value, inGroup);
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  });

const ChannelIdSchema = z.string().check(z.regex(SLACK_ID, 'is not a Slack channel id (like C0123ABC)'));

const ClusterEntrySchema = z.strictObject({
  /** may see status, plans and history */
  read: z.optional(z.array(subject(false))),
  /** may start, pause, resume and abort rollouts and drains (and read) */
  act: z.optional(z.array(subject(false))),
  /** may answer a rollout's approval gate (and read) */
  approve: z.optional(z.array(subject(false))),
  /** when set, Slack requests about the cluster are only taken from these channels */
  channels: z.optional(z.array(ChannelIdSchema)),
  /** where rollouts of the cluster are announced */
  notify: z.optional(ChannelIdSchema),
  /** rollouts of the cluster wait for a person's approval */
  requireApproval: z.optional(z.boolean()),
});

/**
 * The access policy as the operator writes it. Strict: an unknown key (a typo such as
 * `aprove`) fails loudly rather than silently granting nothing. A `group:` subject must
 * name a group the policy defines.
 */
export const AccessPolicySchema = z
  .strictObject({
    groups: z._default(z.record(z.string().check(z.regex(GROUP_NAME, 'is not a group name ([A-Za-z0-9_.-])')), z.array(subject(true))), {}),
    clusters: z._default(z.record(z.string().check(z.minLength(1)), ClusterEntrySchema), {}),
    /** people's display names, by principal id (`slack:<team>:<user>`, `iam:<arn>`): how `status` names who started or paused a rollout */
    names: z.optional(
      z.record(
        z.string().check(z.regex(/^(slack:[A-Z0-9]+:[UW][A-Z0-9]+|iam:arn:[^\s]+)$/, 'is not a person (slack:<team>:<user> or iam:<arn>)')),
        z.string().check(z.minLength(1), z.maxLength(100), z.regex(/^[^<>&*`_~\n]+$/, 'is not a plain display name')),
      ),
    ),
  })
  .check(
    z.superRefine(
      (parsed, ctx) => {
        // Runs even when other parts are malformed (`parsed` is then only partly checked), so
        // that every problem is reported at once.
        const value = parsed as unknown as { groups?: unknown; clusters?: unknown };
        const groups = isRecord(value.groups) ? value.groups : {};
        if (!isRecord(value.clusters)) return;
        for (const [cluster, entry] of Object.entries(value.clusters)) {
          const keyProblem = placeKeyProblem(cluster);
          if (keyProblem) ctx.addIssue({ code: 'custom', message: keyProblem, path: ['clusters', cluster], input: cluster });
          if (!isRecord(entry)) continue;
          for (const level of LEVELS) {
            const subjects = entry[level];
            if (!Array.isArray(subjects)) continue;
            subjects.forEach((s, i) => {
              if (typeof s === 'string' && s.startsWith('group:') && !Object.hasOwn(groups, s.slice('group:'.length))) {
                ctx.addIssue({ code: 'custom', message: `unknown group "${s.slice('group:'.length)}"`, path: ['clusters', cluster, level, i], input: s });
              }
            });
          }
        }
      },
      { when: () => true },
    ),
  );

export type AccessPolicy = z.infer<typeof AccessPolicySchema>;
export type ClusterAccess = z.infer<typeof ClusterEntrySchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The policy when none is configured: nothing is allowed, so a missing parameter fails closed. */
export const DENY_ALL: AccessPolicy = Object.freeze({ groups: Object.freeze({}), clusters: Object.freeze({}) }) as AccessPolicy;

/**
 * Parses the operator's JSON. Throws ConfigurationError naming every problem (bad JSON,
 * schema issues, malformed subjects, unknown groups), so one fix-and-retry suffices.
 */
export function parseAccessPolicy(json: string): AccessPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ConfigurationError(`access policy is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = AccessPolicySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = issuesOf(parsed.error).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw new ConfigurationError(`access policy: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Who asks, as far as authorization is concerned (a full `Principal` fits). */
export type AccessPrincipal = Pick<Principal, 'id' | 'via'> & Partial<Pick<Principal, 'channel' | 'display' | 'enterprise'>>;

export type AuthorizeResult = { allowed: true } | { allowed: false; reason: string };

/**
 * A cluster as the policy sees it. A bare string, or `member` false/absent: one of the hub's
 * own clusters (`place`, when known, lets keys that name the hub's place match it too);
 * `member` true: a member account's, which `place` names.
 */
export interface PolicyCluster {
  cluster: string;
  place?: Place;
  member?: boolean;
}

/** How a cluster is named in refusals: the hub's by name, a member's with its place. */
export function clusterLabel(target: string | PolicyCluster): string {
  if (typeof target === 'string') return target;
  return target.member && target.place ? `${placeKey(target.place)}/${target.cluster}` : target.cluster;
}

/** Why a key that names places is malformed (`<account|*>/<region|*>/<cluster|*>`), or undefined. */
function placeKeyProblem(key: string): string | undefined {
  if (!key.includes('/')) return undefined;
  const parts = key.split('/');
  if (parts.length !== 3) return `"${key}" is not <account>/<region>/<cluster> (each may be *)`;
  const [account, region, cluster] = parts as [string, string, string];
  if (account !== '*' && !ACCOUNT_ID.test(account)) return `"${key}": "${account}" is not an account id (12 digits) or *`;
  if (region !== '*' && !REGION.test(region)) return `"${key}": "${region}" is not a region (like eu-west-1) or *`;
  if (cluster !== '*' && !CLUSTER_NAME.test(cluster)) return `"${key}": "${cluster}" is not a cluster name or *`;
  return undefined;
}

/** How specific a place pattern is when it matches the cluster (cluster 4, account 2, region 1), or -1 when it does not. */
function patternScore(key: string, target: PolicyCluster): number {
  const [account, region, cluster] = key.split('/') as [string, string, string];
  const part = (pattern: string, value: string | undefined, weight: number) => (pattern === '*' ? 0 : pattern === value ? weight : -Infinity);
  const score = part(cluster, target.cluster, 4) + part(account, target.place?.accountId, 2) + part(region, target.place?.region, 1);
  return Number.isFinite(score) ? score : -1;
}

/** The entry that governs a cluster (the order is the module comment's), or none. */
function entryOf(policy: AccessPolicy, target: string | PolicyCluster): ClusterAccess | undefined {
  const t: PolicyCluster = typeof target === 'string' ? { cluster: target } : target;
  const has = (key: string) => Object.hasOwn(policy.clusters, key);
  if (t.place && has(`${placeKey(t.place)}/${t.cluster}`)) return policy.clusters[`${placeKey(t.place)}/${t.cluster}`];
  if (!t.member && has(t.cluster) && !t.cluster.includes('/')) return policy.clusters[t.cluster];
  // a member with no place known matches nothing: default deny
  const patterns = t.member && !t.place ? [] : Object.keys(policy.clusters).filter((key) => key.includes('/') && !placeKeyProblem(key));
  const best = patterns.map((key) => ({ key, score: patternScore(key, t) })).filter((p) => p.score >= 0).sort((a, b) => b.score - a.score)[0];
  if (best) return policy.clusters[best.key];
  return !t.member && has('*') ? policy.clusters['*'] : undefined;
}

/** The subjects granted a level by one entry (act and approve each imply read). */
function grantsOf(entry: ClusterAccess, level: AccessLevel): string[] {
  if (level === 'read') return [...(entry.read ?? []), ...(entry.act ?? []), ...(entry.approve ?? [])];
  return entry[level] ?? [];
}

/**
 * Whether one subject covers the principal. A channel subject only matches Slack requests:
 * only Slack's signature proves which channel a request came from.
 */
function matches(policy: AccessPolicy, subject: string, principal: AccessPrincipal): boolean {
  if (subject === '*') return true;
  if (subject.startsWith('group:')) {
    const members = Object.hasOwn(policy.groups, subject.slice(6)) ? policy.groups[subject.slice(6)] : undefined;
    return (members ?? []).some((m) => !m.startsWith('group:') && matches(policy, m, principal));
  }
  if (subject.startsWith('channel:')) {
    const [team, channel] = subject.slice(8).split(':');
    return principal.via === 'slack' && principal.channel !== undefined && principal.channel === channel && inSlackTeam(principal, team!);
  }
  if (subject.startsWith('slack:')) {
    const [team, user] = subject.slice(6).split(':');
    return principal.via === 'slack' && principal.id.split(':')[2] === user && inSlackTeam(principal, team!);
  }
  if (subject.startsWith('iam:')) {
    if (subject.endsWith('*')) return principal.id.startsWith(subject.slice(0, -1));
    return subject === principal.id;
  }
  return false;
}

/** Whether a Slack principal asked from that workspace, or through that Enterprise Grid org. */
function inSlackTeam(principal: AccessPrincipal, team: string): boolean {
  const parts = principal.id.split(':');
  return parts.length === 3 && parts[0] === 'slack' && (parts[1] === team || principal.enterprise === team);
}

/** Why the channel restriction refuses a request, or undefined when it does not apply. */
function channelRefusal(entry: ClusterAccess, principal: AccessPrincipal, cluster: string): string | undefined {
  // `cluster`: as people read it (clusterLabel)
  if (principal.via !== 'slack' || entry.channels === undefined) return undefined;
  if (principal.channel !== undefined && entry.channels.includes(principal.channel)) return undefined;
  if (entry.channels.length === 0) return `cluster ${cluster} cannot be operated from Slack`;
  return `cluster ${cluster} can only be operated from ${entry.channels.map((c) => `<#${c}>`).join(' or ')}`;
}

function allowedBy(policy: AccessPolicy, entry: ClusterAccess, principal: AccessPrincipal, level: AccessLevel): boolean {
  return grantsOf(entry, level).some((s) => matches(policy, s, principal));
}

const VERB: Record<AccessLevel, string> = { read: 'read', act: 'act on', approve: 'approve rollouts on' };


/**
 * A hint at who could help, naming only groups and channels, never another person's id:
 * a reason is shown in a channel where others read it.
 */
function hintOf(entries: readonly ClusterAccess[], level: AccessLevel): string {
  const groups = new Set<string>();
  const channels = new Set<string>();
  let anyone = false;
  for (const entry of entries) {
    for (const s of grantsOf(entry, level)) {
      if (s.startsWith('group:')) groups.add(s.slice(6));
      else if (s.startsWith('channel:')) channels.add(s.slice(8).split(':')[1]!);
      else anyone = true;
    }
  }
  const hints: string[] = [];
  if (groups.size) hints.push(`ask someone in group ${[...groups].sort().join(' or ')}`);
  if (channels.size) hints.push(`ask from ${[...channels].sort().map((c) => `<#${c}>`).join(' or ')}`);
  if (hints.length) return ` (${hints.join(', or ')})`;
  return anyone ? ' (ask an operator for access)' : ` (nobody may ${VERB[level]} it)`;
}

/**
 * Whether the principal may use a level of access on a cluster. `cluster` undefined asks
 * about no specific cluster (the `status` of everything, `history` of all): allowed when
 * some entry of the policy grants the level. The refusal's reason is for the person who
 * asked: it names the groups and channels that could help, never other users.
 */
export function authorize(policy: AccessPolicy, principal: AccessPrincipal, level: AccessLevel, target: string | PolicyCluster | undefined): AuthorizeResult {
  const who = principalMention(principal);
  const cluster = target === undefined ? undefined : clusterLabel(target);
  if (Object.keys(policy.clusters).length === 0) {
    return { allowed: false, reason: `${who} may not ${VERB[level]} ${cluster === undefined ? 'any cluster' : `cluster ${cluster}`}: no chat-ops access policy is configured` };
  }
  if (cluster === undefined) {
    const entries = Object.entries(policy.clusters);
    const usable = entries.filter(([name, entry]) => channelRefusal(entry, principal, name) === undefined);
    if (usable.some(([, entry]) => allowedBy(policy, entry, principal, level))) return { allowed: true };
    return { allowed: false, reason: `${who} may not ${VERB[level]} any cluster${hintOf(usable.map(([, e]) => e), level)}` };
  }
  const entry = entryOf(policy, target!);
  if (!entry) return { allowed: false, reason: `${who} may not ${VERB[level]} cluster ${cluster}: the access policy grants nothing on it` };
  const refusal = channelRefusal(entry, principal, cluster);
  if (refusal) return { allowed: false, reason: `${who} may not ${VERB[level]} cluster ${cluster} from here: ${refusal}` };
  if (allowedBy(policy, entry, principal, level)) return { allowed: true };
  return { allowed: false, reason: `${who} may not ${VERB[level]} cluster ${cluster}${hintOf([entry], level)}` };
}

/** The clusters, of those given, on which the principal has the level (e.g. what `status` may show). */
export function clustersVisibleTo<T extends string | PolicyCluster>(policy: AccessPolicy, principal: AccessPrincipal, level: AccessLevel, clusters: readonly T[]): T[] {
  return clusters.filter((c) => authorize(policy, principal, level, c).allowed);
}

/** The Slack channel where the cluster's rollouts are announced (from its entry, else `*`'s). */
export function notifyChannelOf(policy: AccessPolicy, cluster: string | PolicyCluster): string | undefined {
  return entryOf(policy, cluster)?.notify;
}

/** Whether the cluster's rollouts wait for a person's approval; false unless the entry says so. */
export function requiresApproval(policy: AccessPolicy, cluster: string | PolicyCluster): boolean {
  return entryOf(policy, cluster)?.requireApproval ?? false;
}

/**
 * A person as people read them: the display name the policy gives them; else a Slack user as a
 * mention (Slack shows their name; text shows `<@U…>`, never the workspace-qualified id), an IAM
 * caller by ARN, detection as `automatic detection`.
 */
export function displayNameOf(policy: Pick<AccessPolicy, 'names'>, id: string): string {
  const name = policy.names?.[id];
  return name ?? principalMention({ id });
}
