import type { KnownBlock } from '@slack/types';
import type { Place } from '../aws/places.js';
import type { FreezeScope } from '../fleet/freeze.js';
import type { Via } from './audit-log.js';
import type { ReplyData } from './reply-data.js';

/**
 * The vocabulary of chat-ops, shared by every way in (Slack, direct Lambda invocation from
 * Amazon Q Developer in chat applications, the CLI): who asks, what they ask (one command
 * grammar), and what they get back (one reply, rendered as Block Kit for Slack and as text
 * for the CLI and Amazon Q — the text is the same everywhere).
 */


/**
 * Who asks. The id is what authorization and the approval rule compare:
 * - `slack:<team>:<user>` — a Slack user, proven by the request signature (`via: 'slack'`);
 * - `iam:<arn>` — the IAM caller of the CLI, proven by AWS's SigV4 check at the function URL
 *   (`via: 'cli'`), or the one shared identity of a direct invocation (`via: 'lambda'`:
 *   Lambda does not say who invoked, so that principal is nobody in particular).
 */
export interface Principal {
  id: string;
  /** for people: `<@U123>` in Slack, the ARN otherwise */
  display: string;
  /** the chat channel the command came from (Slack channel id), if any */
  channel?: string;
  /** the Enterprise Grid org a Slack request came through, if any (grants may name it instead of the team) */
  enterprise?: string;
  via: Via;
}

/** Which node image a person asks a rollout to move to. */
export type AmiChoice = { kind: 'latest' } | { kind: 'release'; release: string } | { kind: 'image'; imageId: string };

export type MaxUnavailable = number | `${number}%`;

/**
 * Where a command's cluster lives, when the person wrote it (`444455556666/eu-west-1/prod`):
 * absent, the short form (`prod`), which names the one place of the fleet that has a
 * cluster of that name (run-command resolves it; several is an error naming them).
 */
export interface Placed {
  place?: Place;
}

/** A rollout is named by its node group: one rollout per group at a time (the group lock). */
export interface GroupRef extends Placed {
  cluster: string;
  group: string;
}

export type Command =
  | { name: 'help'; topic?: CommandName }
  | ({ name: 'status'; cluster?: string; group?: string } & Placed)
  | ({ name: 'plan'; cluster?: string; group?: string } & Placed)
  /** what the service sees of a cluster or group: settings and where they come from, problems, access, hooks, neighbours */
  | ({ name: 'doctor'; cluster?: string; group?: string } & Placed)
  | ({ name: 'rollout'; cluster: string; group: string; ami: AmiChoice; maxUnavailable?: MaxUnavailable; now: boolean } & Placed)
  /** `place`: the instance's account and region, when written (`444455556666/eu-west-1/i-0abc…`); else it is looked for in the hub, then the members */
  | ({ name: 'drain'; target: { kind: 'node'; nodeName: string } | { kind: 'instance'; instanceId: string }; force: boolean } & Placed)
  /** takes back exactly what a drain added to the node (the cordon, label and taint its record names) */
  | ({ name: 'uncordon'; target: { kind: 'node'; nodeName: string } | { kind: 'instance'; instanceId: string } } & Placed)
  /** resume names the pause it ends (`--pause N`): a resume sent for an older pause is refused */
  | { name: 'pause' | 'resume' | 'abort'; rollout: GroupRef; pause?: number }
  /**
   * an approval id (`apr-…`, what the buttons carry), the group whose rollout waits, or a
   * person's `promote --to` waiting for a second person (`prm-…`)
   */
  | { name: 'approve' | 'deny'; approval: { kind: 'id'; id: string } | ({ kind: 'group' } & GroupRef) | { kind: 'promotion'; id: string }; reason?: string }
  | ({ name: 'history'; cluster?: string } & Placed)
  /** the approvals waiting for a person: everywhere, or in one cluster */
  | ({ name: 'approvals'; cluster?: string } & Placed)
  /** fleet promotion (issue 21): nothing new starts where a freeze applies; running rollouts pause at their next batch boundary */
  | { name: 'freeze'; scope: FreezeScope; reason: string }
  | { name: 'unfreeze'; scope: FreezeScope }
  /** every promotion: where it stands */
  | { name: 'promotions' }
  /** `promotion status RELEASE`: one promotion, ring by ring */
  | { name: 'promotion'; release: string }
  | { name: 'hold'; release: string; reason: string }
  | { name: 'release'; release: string }
  /** skip the remaining soak up to RING (a second person approves), or approve entering a ring that waits for one */
  | { name: 'promote'; release: string; ring: string };

export type CommandName = Command['name'];

export const COMMAND_NAMES = ['help', 'status', 'plan', 'doctor', 'rollout', 'drain', 'uncordon', 'pause', 'resume', 'abort', 'approve', 'deny', 'history', 'approvals', 'freeze', 'unfreeze', 'promotions', 'promotion', 'hold', 'release', 'promote'] as const satisfies readonly CommandName[];

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string; usage: string };

/** What a command needs: nothing (help), to read, to change something, or to approve. */
export type AccessLevel = 'read' | 'act' | 'approve';

/**
 * An answer, before rendering. `toText` (CLI, Amazon Q, Slack's fallback `text`) and
 * `toSlackMessage` (Block Kit) render the same reply, so every way in says the same thing.
 */
export interface Reply {
  /** false when nothing was done: a bad command, a refusal, an error */
  ok: boolean;
  /** one line that says it all (Slack's notification text starts with it) */
  title: string;
  sections: ReplySection[];
  /** buttons in Slack; in text, each is shown as the command that does the same */
  actions?: ReplyAction[];
  /** a footnote: who asked, the audit id, the execution */
  context?: string;
  /**
   * the answer found something that blocks the service (doctor: a configuration problem that
   * stops rollouts, an API it cannot reach, RBAC it lacks…): the command itself was done, but
   * the CLI exits non-zero, so a script or CI job can stop on it
   */
  blocking?: boolean;
  /**
   * the command failed because the service could not reach what it asked (a cluster's
   * Kubernetes API): the CLI exits 3, as for AWS it cannot reach itself
   */
  unreachable?: boolean;
  /**
   * the answer of a read command as data (`reply-data.ts`: a `kind` and an `apiVersion`, built
   * from the values the text shows): what `-o json` prints. Never rendered, never sent to Slack.
   */
  data?: ReplyData;
}

export type ReplySection =
  | { kind: 'text'; heading?: string; lines: string[] }
  | { kind: 'fields'; heading?: string; fields: [label: string, value: string][] }
  /** `wide`: more columns, row by row, that only the CLI's `-o wide` shows */
  | { kind: 'table'; heading?: string; columns: string[]; rows: string[][]; wide?: { columns: string[]; rows: string[][] } }
  /** done out of total, drawn as a bar: `▰▰▰▱▱▱▱▱▱▱ 3/10 batches` */
  | { kind: 'progress'; label: string; done: number; total: number };

export interface ReplyAction {
  label: string;
  /** the Slack action_id; the interactive payload names it */
  actionId: 'approve' | 'deny';
  /** the Slack button value: only ever an approval id, never a task token */
  value: string;
  style?: 'primary' | 'danger';
  /** the typed command that does the same, shown in text */
  command: string;
}

/** A Slack message: the Block Kit blocks and the plain text that notifications and screen readers use. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
