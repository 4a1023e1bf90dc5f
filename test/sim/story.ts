import type { Invocation } from './lambda.js';
import type { Timeline, TimelineEntry } from './timeline.js';
import type { World } from './world.js';

/**
 * The sandbox's timeline told as an operator's story (`npm start`): a header naming the
 * cluster, its groups and the tags that opt them in; one line per meaningful step, a line
 * repeated later folded into its first telling with a count; a closing summary of every flow.
 * The full timeline stays in `world.timeline` (`npm start -- --timeline` prints it).
 */

/** What a timeline line becomes in the story: dropped (another line tells it), or kept as it is or shortened. */
type Rule = { source: TimelineEntry['source']; match: RegExp; then: 'drop' | ((message: string) => string) };

/**
 * In order; the first rule that matches decides, and a line no rule matches is kept. Dropped:
 * what another line already says (a launch is told by `ec2: launched`, a node's arrival by
 * `kube: … registered`), EC2's state-change chatter, and results counted in the summary.
 */
const RULES: readonly Rule[] = [
  { source: 'aws', match: /^autoscaling: .*: launching i-/, then: 'drop' },
  { source: 'aws', match: /^autoscaling: .* is InService$/, then: 'drop' },
  { source: 'aws', match: /^autoscaling: .* is Pending:Wait on hook /, then: 'drop' },
  { source: 'aws', match: /^autoscaling: .* is Terminating:Wait on hook /, then: (m) => m.replace(/ \(token [^)]*\)/, '') },
  { source: 'aws', match: /^autoscaling: .*: terminating i-\w+ \(/, then: (m) => m.replace(/ \(At .*$/, '') },
  { source: 'aws', match: /^autoscaling: .*: i-\w+ left the group$/, then: 'drop' },
  { source: 'aws', match: /^kubelet: /, then: 'drop' },
  { source: 'event', match: /^EC2 Instance State-change Notification /, then: 'drop' },
  { source: 'event', match: /^EC2 Instance (Launch|Terminate) Successful /, then: 'drop' },
  // the service's own events: their notify line, right after, tells them
  { source: 'event', match: /^(Rollout|Node Drain) [A-Z]/, then: 'drop' },
  { source: 'lambda', match: /^tagInstance: already-tagged/, then: 'drop' },
  { source: 'lambda', match: /^chatNotify: /, then: 'drop' },
  { source: 'lambda', match: /^rollStep [^:]+: EKS is replacing the nodes for /, then: 'drop' },
  { source: 'lambda', match: /^rollStep /, then: (m) => m.replace(/^rollStep /, 'rollout ') },
];

export interface StoryLine {
  at: number;
  source: TimelineEntry['source'];
  message: string;
  count: number;
  lastAt: number;
}

/** An entry as the story tells it, or undefined when another line tells it. */
function tell(entry: TimelineEntry): string | undefined {
  const rule = RULES.find((r) => r.source === entry.source && r.match.test(entry.message));
  if (rule?.then === 'drop') return undefined;
  return rule ? rule.then(entry.message) : entry.message;
}

/** The story's lines: the rules applied, and every repeat of a line folded into its first telling. */
export function storyLines(entries: readonly TimelineEntry[]): StoryLine[] {
  const lines: StoryLine[] = [];
  const seen = new Map<string, StoryLine>();
  for (const entry of entries) {
    const message = tell(entry);
    if (message === undefined) continue;
    const key = `${entry.source}\u0000${message}`;
    const earlier = seen.get(key);
    if (earlier) {
      earlier.count++;
      earlier.lastAt = entry.at;
      continue;
    }
    const line = { at: entry.at, source: entry.source, message, count: 1, lastAt: entry.at };
    seen.set(key, line);
    lines.push(line);
  }
  return lines;
}

/**
 * The story as it happens (the persistent sandbox's console): a line told among the last 20 is
 * not printed again (the full timeline keeps every one); a rollout days later is told anew.
 */
export function tellAsItHappens(timeline: Timeline, print: (line: string) => void): void {
  const recent: string[] = [];
  timeline.onEntry((entry) => {
    const message = tell(entry);
    const key = `${entry.source}\u0000${message}`;
    if (message === undefined || recent.includes(key)) return;
    recent.push(key);
    if (recent.length > 20) recent.shift();
    print(timeline.format({ ...entry, message }));
  });
}

export function formatStoryLine(line: StoryLine, timeline: Timeline): string {
  const text = timeline.format({ at: line.at, source: line.source, message: line.message });
  if (line.count === 1) return text;
  const last = timeline.format({ at: line.lastAt, source: line.source, message: '' }).split(' ')[0];
  return `${text}  (×${line.count}, last at ${last})`;
}

/** Every invocation of the world's functions, for the summary (register before the scenario runs). */
export function recordInvocations(world: World): Invocation[] {
  const seen: Invocation[] = [];
  world.lambda.onInvoked((invocation) => seen.push(invocation));
  return seen;
}

const OWN_TAG = 'eks-node-lifecycle/';

/** The header: each cluster, its node groups, and the tags that opt them in (and tune them). */
export function storyHeader(world: World): string[] {
  const lines: string[] = [];
  for (const [name, cluster] of world.account.eks.clusters) {
    lines.push(`cluster ${name} (Kubernetes ${cluster.cluster.version}, API ${cluster.cluster.endpoint})`);
    const rows: [string, string, string][] = [];
    for (const { nodegroup } of cluster.nodegroups.values()) {
      rows.push([`${name}/${nodegroup.nodegroupName}`, `managed node group (${nodegroup.amiType ?? 'custom'}, ${(nodegroup.instanceTypes ?? []).join(', ')})`, optIn(Object.entries(nodegroup.tags ?? {}) as [string, string][])]);
    }
    for (const group of world.account.autoscaling.groups.values()) {
      const tags = group.tags.map((t) => [t.Key ?? '', t.Value ?? ''] as [string, string]);
      if (tags.some(([k]) => k === 'eks:nodegroup-name') || !tags.some(([k, v]) => k === `kubernetes.io/cluster/${name}` && v === 'owned')) continue;
      rows.push([`${name}/${group.name}`, `self-managed (Auto Scaling group ${group.name})`, optIn(tags)]);
    }
    const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const row of rows) lines.push(`  ${row[0].padEnd(widths[0]!)}  ${row[1].padEnd(widths[1]!)}  ${row[2]}`);
  }
  return lines;
}

function optIn(tags: readonly [string, string][]): string {
  const own = tags.filter(([k]) => k.startsWith(OWN_TAG));
  const rollout = own.find(([k]) => k === `${OWN_TAG}rollout`);
  const rest = own.filter((t) => t !== rollout).map(([k, v]) => `${k.slice(OWN_TAG.length)}=${v}`);
  const head = rollout ? `opted in by ${rollout[0]}=${rollout[1]}` : `not opted in (no ${OWN_TAG}rollout tag)`;
  return rest.length > 0 ? `${head}; also ${rest.join(', ')}` : head;
}

/** The closing summary: the scale-out, each drain, each rollout (from → to, nodes replaced, duration), chat, tagging. */
export function storySummary(world: World, invocations: readonly Invocation[], scaleOut?: { group: string; from: number; to: number; instances: string[] }): string[] {
  const lines: string[] = [];
  const results = (fn: string) => invocations.filter((i) => i.function === fn && 'result' in i.outcome).map((i) => ({ payload: i.payload as Record<string, any>, result: (i.outcome as { result: Record<string, any> }).result }));
  const executions = [...world.stepFunctions.executions.values()];
  const machine = (e: { stateMachineArn: string }) => e.stateMachineArn.split(':').at(-1)!.replace(/^eks-node-lifecycle-sandbox-/, '');
  const duration = (e: { startDate?: Date; stopDate?: Date }) => (e.startDate && e.stopDate ? seconds((e.stopDate.getTime() - e.startDate.getTime()) / 1000) : 'still running');

  if (scaleOut) {
    const joins = executions.filter((e) => machine(e) === 'node-join' && scaleOut.instances.some((id) => e.name.includes(id)));
    const ok = joins.filter((e) => e.status === 'SUCCEEDED').length;
    lines.push(`scale-out  ${scaleOut.group} ${scaleOut.from} → ${scaleOut.to}: ${scaleOut.instances.join(', ')} launched; ${ok} of ${scaleOut.instances.length} launch hooks completed with CONTINUE once the node was Ready`);
  }

  const blocked = results('drainStep');
  for (const drain of world.published.filter((e) => e['detail-type'] === 'Node Drain Finished')) {
    const d = drain.detail as Record<string, any>;
    const waits = blocked.filter((b) => b.result.nodeName === d.nodeName && (b.result.blocked as { pdb: { namespace: string; name: string } | null }[]).some((x) => x.pdb));
    const pdbs = [...new Set(waits.flatMap((b) => (b.result.blocked as { pdb: { namespace: string; name: string } | null }[]).filter((x) => x.pdb).map((x) => `${x.pdb!.namespace}/${x.pdb!.name}`)))];
    const held = waits.length > 0 ? `, held ${waits.length} pass(es) by PodDisruptionBudget ${pdbs.join(', ')}` : '';
    lines.push(`drain      ${d.instanceId} (${d.nodeName}, ${d.trigger}): ${d.outcome} in ${seconds(d.durationSeconds)}${held}, lifecycle action ${d.lifecycleAction}`);
  }

  const begun = results('beginRollout');
  const steps = results('rollStep');
  for (const e of executions.filter((x) => machine(x) === 'ami-rollout')) {
    const begin = begun.find((b) => b.payload.executionArn === e.executionArn || e.name.startsWith(`roll-${b.result.cluster}-${b.result.group?.name}-`))?.result;
    const input = (typeof e.input === 'string' ? JSON.parse(e.input) : e.input) as Record<string, any>;
    const cluster = begin?.cluster ?? input.cluster;
    const group = begin?.group?.name ?? input.group?.name ?? input.group;
    const kind = begin?.group?.kind ?? '';
    const from = begin?.from?.release ?? begin?.from?.imageId ?? '?';
    const to = begin?.target ? `${begin.target.release ?? begin.target.imageId} (${begin.target.imageId})` : '?';
    const finished = world.published.find((p) => p['detail-type'] === 'Rollout Finished' && (p.detail as { executionArn?: string }).executionArn === e.executionArn)?.detail as Record<string, any> | undefined;
    const mine = steps.filter((s) => s.payload.cluster === cluster && s.payload.group?.name === group);
    const drained = new Set(mine.filter((s) => s.result.state?.phase === 'await-drain').flatMap((s) => (s.result.state.cycle?.retire ?? []) as string[]));
    const pdbWaits = mine.filter((s) => s.result.state?.phase === 'await-drain' && (s.result.state.cycle?.blockers ?? []).length > 0);
    const managedReplaced = world.timeline.entries.filter((t) => t.source === 'aws' && t.message.startsWith(`eks: node group ${cluster}/${group}: upgrade: terminated `) && t.at >= (e.startDate?.getTime() ?? 0) && t.at <= (e.stopDate?.getTime() ?? Infinity)).length;
    const replaced = finished?.replaced ?? (kind === 'managed' ? managedReplaced : undefined);
    const how = kind === 'managed' ? 'by an EKS managed node group update' : `(${drained.size} drained by the rollout${pdbWaits.length > 0 ? `, ${pdbWaits.length} drain pass(es) waiting on a PodDisruptionBudget` : ''})`;
    lines.push(`rollout    ${cluster}/${group} (${kind}): ${from} → ${to}, ${e.status.toLowerCase()}, ${replaced ?? '?'} node(s) replaced ${how}, in ${duration(e)}`);
  }

  const notifications = invocations.filter((i) => i.function === 'chatNotify');
  const noChannel = notifications.filter((i) => 'result' in i.outcome && /no channel/.test(JSON.stringify(i.outcome.result))).length;
  lines.push(`chat       ${notifications.length} notification(s) from the service${noChannel > 0 ? `, ${noChannel} not posted: no chat channel is configured for the cluster (chatNotify answered "no channel")` : ''}`);

  const tagged = results('tagInstance');
  const outcomes = new Map<string, number>();
  for (const t of tagged) outcomes.set(String(t.result.outcome), (outcomes.get(String(t.result.outcome)) ?? 0) + 1);
  lines.push(`tagging    ${tagged.length} instance launch/state event(s): ${[...outcomes].map(([outcome, n]) => `${n} ${outcome}`).join(', ') || 'none'} (kubernetes.io/cluster/<name>=owned; once set on the group it propagates at launch)`);
  return lines;
}

function seconds(total: number): string {
  const s = Math.round(total);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}
