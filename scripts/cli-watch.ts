/**
 * `status -w` and `rollout … -w`: a live view of the groups' rollouts, built from `status -o json`
 * asked again every few seconds (the service's own answer: the same authorization, audit and
 * rate limit as any command — a watch costs one `status` per interval, 12 a minute at the
 * default 5 s, under the 20 a minute a person may send).
 *
 * On a terminal the view is redrawn in place; piped, only the lines that changed are written,
 * each with the time it was seen, so a log reads as a story. Per rolling group: its phase, a
 * bar of the nodes already on the rollout's target (what the instances run now, read fresh by
 * `status`), the batches done, what held its last drain pass back (the pod and its
 * PodDisruptionBudget), who started and who paused it. The watch ends when nothing in
 * view rolls any more — for `rollout -w`, when that group's rollout has ended — with the
 * outcome and the exit code: 0 when every node of the group runs the target, 1 otherwise
 * (rolled back, aborted, failed: `history` tells which).
 */
import { progressBar } from '../shared/chatops/render.js';

export interface WatchedImage {
  imageId: string;
  count: number;
}

/** The parts of a `StatusList` item the view reads (README "-o json"). */
export interface WatchedGroup {
  cluster: string;
  group: string;
  images?: WatchedImage[];
  rollout?: {
    phase?: string;
    target?: { imageId: string; release?: string };
    batchesDone?: number;
    startedBy?: string;
    controlBy?: string;
    pause?: number;
    approvalId?: string;
    blockedBy?: string[];
  } | null;
}

export interface WatchPorts {
  /** `status <scope> -o json`, as the service answers it */
  status: (scope: string) => Promise<{ ok: boolean; items?: WatchedGroup[]; text: string; unreachable?: boolean }>;
  write: (text: string) => void;
  /** a terminal: redraw in place */
  tty: boolean;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  intervalMs: number;
}

const nameOf = (g: WatchedGroup) => `${g.cluster}/${g.group}`;

/** Nodes on the target, of all, from what the instances run now. */
export function onTarget(group: WatchedGroup, target: string | undefined): { done: number; total: number } {
  const images = group.images ?? [];
  const total = images.reduce((n, i) => n + i.count, 0);
  return { done: target ? (images.find((i) => i.imageId === target)?.count ?? 0) : 0, total };
}

/** One line per group: pure, so a test reads exactly what a person sees. */
export function watchLines(groups: readonly WatchedGroup[]): string[] {
  const width = Math.max(...groups.map((g) => nameOf(g).length), 5);
  return groups.map((g) => {
    const images = (g.images ?? []).map((i) => `${i.imageId} ×${i.count}`).join(', ') || 'no instances';
    const r = g.rollout;
    if (!r) return `${nameOf(g).padEnd(width)}  idle     ${images}`;
    const target = r.target?.imageId;
    const { done, total } = onTarget(g, target);
    const blocked = r.blockedBy?.length ? `waiting on ${r.blockedBy.slice(0, 2).join(', ')}${r.blockedBy.length > 2 ? ` and ${r.blockedBy.length - 2} more` : ''}` : '';
    const who = [blocked, r.startedBy ? `started by ${r.startedBy}` : '', r.phase === 'paused' && r.controlBy ? `paused #${r.pause ?? '?'} by ${r.controlBy}` : '', r.approvalId ? `approval ${r.approvalId}` : ''].filter(Boolean).join('; ');
    return `${nameOf(g).padEnd(width)}  ${(r.phase ?? 'rolling').padEnd(7)}  ${progressBar(done, total, `nodes on ${r.target?.release ?? target ?? 'the target'}`)}, ${r.batchesDone ?? 0} batch(es) done${who ? `; ${who}` : ''}  [${images}]`;
  });
}

/**
 * Watches `scope` (a cluster, `cluster/group`, or '' for every cluster). `until` says when it
 * ends: by default when no group in view rolls.
 */
export async function watch(scope: string, ports: WatchPorts, options: { group?: string } = {}): Promise<number> {
  let previous: string[] = [];
  let drawn = 0;
  let last: WatchedGroup[] = [];
  let target: string | undefined;
  let sawRollout = false;
  for (let polls = 0; ; polls++) {
    const answer = await ports.status(scope);
    if (!answer.ok || !answer.items) {
      ports.write(`${answer.text}\n`);
      return answer.unreachable ? 3 : 1;
    }
    const items = options.group ? answer.items.filter((g) => g.group === options.group) : answer.items;
    last = items;
    for (const g of items) if (g.rollout?.target?.imageId) target = g.rollout.target.imageId;
    const rolling = items.filter((g) => g.rollout);
    sawRollout ||= rolling.length > 0;
    const lines = watchLines(items);
    const at = ports.now().toISOString().slice(11, 19);
    if (ports.tty) {
      // back to the top of the last frame, clear below, draw again
      ports.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${at} UTC  ${scope || 'all clusters'}\n${lines.join('\n')}\n`);
      drawn = lines.length + 1;
    } else {
      for (const line of lines) if (!previous.includes(line)) ports.write(`${at}  ${line}\n`);
    }
    previous = lines;
    if (rolling.length === 0) break;
    await ports.sleep(ports.intervalMs);
  }
  return outcome(last, target, sawRollout, ports, options.group);
}

function outcome(groups: readonly WatchedGroup[], target: string | undefined, sawRollout: boolean, ports: WatchPorts, group: string | undefined): number {
  if (!group) {
    ports.write(sawRollout ? 'no rollout running any more in view\n' : 'no rollout running in view\n');
    return 0;
  }
  const g = groups[0];
  if (!g) {
    ports.write(`no node group ${group}\n`);
    return 1;
  }
  const { done, total } = onTarget(g, target);
  if (!sawRollout || !target) {
    ports.write(`${nameOf(g)}: no rollout ran while watched\n`);
    return 1;
  }
  if (done === total && total > 0) {
    ports.write(`${nameOf(g)}: rollout finished — ${done} of ${total} nodes on ${target}\n`);
    return 0;
  }
  ports.write(`${nameOf(g)}: rollout ended with ${done} of ${total} nodes on ${target} (rolled back, aborted or failed: see \`history ${g.cluster}\`)\n`);
  return 1;
}
