import type { AwsScope } from '../aws/clients.js';
import { DetectionWindowRecords } from '../aws/detection-window-records.js';
import { epochSeconds } from '../clock.js';
import { AwsTransientError } from '../errors.js';
import type { GroupRef } from './inventory.js';

/**
 * The debounce of AMI events: however many images become available within a minute, one
 * detection runs, for the union of the node groups they could be the target of.
 *
 * Why this mechanism (AWS-native, and one the sandbox runs as AWS does):
 * - the first matching event opens a **window** of DEBOUNCE_SECONDS: a pointer item
 *   (`detect-window#open` in the rollouts table) written with a condition — only when none is
 *   open (DynamoDB conditional writes: exactly one of two racing writers wins,
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html);
 * - every matching event adds its groups to the window's item (`detect-window#<id>`, a string
 *   set: `ADD` is idempotent, so a retried event adds nothing twice), on condition that the
 *   window's detection has not read it yet (`closedAt`); a write that comes too late moves to
 *   the next window, so no image is lost;
 * - and starts the window's **Step Functions Standard execution**, named after the window,
 *   with the same input every time: StartExecution with the name and input of an open
 *   execution returns it and starts nothing new
 *   (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html),
 *   so ten events start one execution;
 * - the execution waits (a Wait state until `detectAt`, the window's end plus SETTLE_SECONDS
 *   for a write begun before the end: https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html)
 *   and runs detectStaleGroups once, which closes the window (reads its groups, sets
 *   `closedAt`) and detects for those groups only.
 * Not an SQS batching window: a Lambda event source mapping's MaximumBatchingWindowInSeconds
 * also ends a batch at its size or payload limit, so a burst could still cost several
 * detections, and the sandbox has no event source mappings to hold it to; nor a Lambda that
 * sleeps: all waiting happens in Step Functions.
 */
export const DEBOUNCE_SECONDS = 60;
export const SETTLE_SECONDS = 10;
/** Window items expire (TTL) a day after they open. */
const WINDOW_TTL_SECONDS = 24 * 3600;

export interface DetectionWindow {
  /** `20261121T090012Z`: the window's opening, what its execution is named after */
  id: string;
  /** ISO 8601 to the second (what a Wait state's timestamp takes): when its detection runs */
  detectAt: string;
}

export interface ClosedWindow {
  /** a member's groups with their place (accountId, region); the hub's without */
  groups: GroupRef[];
  images: string[];
}

/**
 * How a group is kept in a window's string set: `cluster/group` for the hub's own place (what
 * windows held before member accounts: one open during an upgrade is read the same), and
 * `@account/region/cluster/group` for a member's — a cluster name starts with a letter or
 * digit, never `@`, so the two cannot be confused, whatever a group's name holds.
 */
export function windowKeyOf(ref: GroupRef): string {
  return ref.accountId && ref.region ? `@${ref.accountId}/${ref.region}/${ref.cluster}/${ref.group}` : `${ref.cluster}/${ref.group}`;
}

export function groupOfWindowKey(key: string): GroupRef {
  if (key.startsWith('@')) {
    const [accountId = '', region = '', cluster = '', ...group] = key.slice(1).split('/');
    return { accountId, region, cluster, group: group.join('/') };
  }
  const at = key.indexOf('/');
  return { cluster: key.slice(0, at), group: key.slice(at + 1) };
}

export class DetectionWindows {
  private readonly records: DetectionWindowRecords;

  constructor(scope: AwsScope, table: string) {
    this.records = new DetectionWindowRecords(scope, table);
  }

  /**
   * Adds the groups (and, for people reading the table, the images) to the open window — or to
   * a new one this call opens — and returns it.
   * 1. the open window, or a new one (conditional write of the pointer);
   * 2. the groups into it, unless its detection already read it; then again from 1.
   */
  async join(groups: readonly GroupRef[], images: readonly string[], now: Date): Promise<DetectionWindow> {
    for (let attempt = 0; ; attempt++) {
      const window = await this.openWindow(now);
      const closesAt = Date.parse(window.detectAt) - SETTLE_SECONDS * 1000;
      const joined = await this.records.add(window.id, {
        groups: new Set(groups.map(windowKeyOf)),
        images: new Set(images),
        detectAt: window.detectAt,
        expiresAt: epochSeconds(now) + WINDOW_TTL_SECONDS,
      });
      if (joined) return window;
      // its detection has read it: the next window (now is past its end)
      if (attempt >= 2) throw new AwsTransientError('dynamodb:UpdateItem', { cause: new Error(`detection window ${window.id} closed and no next window could be joined`) });
      now = new Date(Math.max(now.getTime(), closesAt));
    }
  }

  /** The window's groups, read once by its detection, after which it takes no more (a retried detection reads the same). */
  async close(id: string, now: Date): Promise<ClosedWindow> {
    const item = await this.records.close(id, now.toISOString(), epochSeconds(now) + WINDOW_TTL_SECONDS);
    const groups = [...(item.groups ?? [])].sort().map(groupOfWindowKey);
    return { groups, images: [...(item.images ?? [])].sort() };
  }

  /** The window open at `now`: the one the pointer names, or a new one this call opens. */
  private async openWindow(now: Date): Promise<DetectionWindow> {
    const nowSeconds = epochSeconds(now);
    const opening: DetectionWindow = { id: windowId(now), detectAt: isoSeconds(nowSeconds + DEBOUNCE_SECONDS + SETTLE_SECONDS) };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.records.openPointer({ ...opening, closesAt: nowSeconds + DEBOUNCE_SECONDS, expiresAt: nowSeconds + WINDOW_TTL_SECONDS }, nowSeconds)) return opening;
      const open = await this.records.getPointer();
      if (open?.window && open.detectAt && (open.closesAt ?? 0) > nowSeconds) return { id: open.window, detectAt: open.detectAt };
    }
    // the pointer changed under every attempt (windows closing as fast as they open): the event's retry tries again
    throw new AwsTransientError('dynamodb:UpdateItem', { cause: new Error('no detection window could be opened or read') });
  }
}

/** The execution that runs a window's detection: one per window. */
export function detectionExecutionName(window: DetectionWindow): string {
  return `detect-${window.id}`;
}

function windowId(now: Date): string {
  return now.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

function isoSeconds(epoch: number): string {
  return new Date(epoch * 1000).toISOString().slice(0, 19) + 'Z';
}
