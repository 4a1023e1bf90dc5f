import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DrainTriggerKind } from '../events/drain.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import { callAws, conditionalWrite } from './call.js';
import type { AwsScope } from './clients.js';
import { documentClientOf } from './dynamodb-documents.js';
import { type Place, placeKey } from './places.js';

/**
 * One record per instance in the drains table: which execution owns the instance's drain (a
 * node-drain or an ami-rollout) and until when its lease holds, every lifecycle action noted
 * on the instance (whichever trigger brought it: a spot warning may start the drain and the
 * terminate hooks arrive later), and how the drain ended. It is what makes several triggers
 * for one instance one drain, and what lets a late hook be completed at once when the node
 * is still drained.
 *
 * Every write is conditional on the record as its writer read it (`revision`): a writer whose
 * read is stale reads again and decides again, so no trigger, heartbeat or completion is lost
 * to another writer's race.
 *
 * Keys: the hub's own instances by their id, as always (records of drains under way survive
 * an upgrade); a member's as `<account>/<region>/<instance>` (drainRecordKey), since an
 * instance id is unique only within an account and region.
 */
export type DrainStatus = 'running' | 'drained' | 'forced' | 'failed' | 'node-gone';

/**
 * A lifecycle action noted on the instance, one per hook (a newer token of a hook replaces the
 * older): `open` until the drain completes it (`completed`, once) or Auto Scaling closes it
 * under the drain (`closed`: its timeout passed, or someone else completed it).
 */
export interface NotedLifecycleAction extends LifecycleAction {
  /** when Auto Scaling opened it (the event's time): its heartbeat timeout runs from here */
  openedAt: string;
  state: 'open' | 'completed' | 'closed';
  /** when it was completed, or found closed */
  endedAt?: string;
  /** the owner's last heartbeat Auto Scaling accepted */
  lastHeartbeatAt?: string;
  /** half the hook's heartbeat timeout (DescribeLifecycleHooks, read once) */
  heartbeatEverySeconds?: number;
}

export interface DrainRecord {
  instanceId: string;
  /** a member's instance: where it lives (absent: the hub's own) */
  place?: Place;
  cluster: string;
  status: DrainStatus;
  /** bumped whenever a new drain of the instance starts; part of a node-drain execution's name */
  generation: number;
  triggers: DrainTriggerKind[];
  lifecycleActions: NotedLifecycleAction[];
  /** the owner: the node-drain or ami-rollout execution that drains (or drained) the instance */
  executionArn?: string;
  /** until when the owner's claim holds without asking Step Functions whether it still runs (ISO) */
  leaseUntil?: string;
  /** bumped by every write: each write is conditional on the revision its writer read */
  revision: number;
  updatedAt: string;
  /** epoch seconds: DynamoDB TTL */
  expiresAt: number;
}

/** What a write changes; the rest stays. `lifecycleActions` is the whole set as it now is; `trigger` is appended. */
export interface DrainRecordChange {
  cluster?: string;
  trigger?: DrainTriggerKind;
  status?: DrainStatus;
  generation?: number;
  executionArn?: string;
  leaseUntil?: string;
  lifecycleActions?: readonly NotedLifecycleAction[];
}

interface StoredRecord extends Omit<DrainRecord, 'lifecycleActions' | 'revision' | 'place'> {
  /** a member's record: where the instance lives (the key `instanceId` is `<account>/<region>/<instance>`) */
  accountId?: string;
  region?: string;
  /** hook name → its action */
  actions?: Record<string, NotedLifecycleAction>;
  /** records written before several hooks were kept (they live 14 days): the one action they noted */
  lifecycleAction?: LifecycleAction;
  revision?: number;
}

const RETENTION_SECONDS = 14 * 86_400;
/** a drain that ended this way had completed the action a record of the old shape noted */
const LEGACY_COMPLETED: ReadonlySet<string> = new Set(['drained', 'forced', 'node-gone']);

/** The record as stored → its view: the old single action read as one of the actions. */
function fromItem(item: StoredRecord): DrainRecord {
  const { actions, lifecycleAction: legacy, revision, accountId, region, ...stored } = item;
  const place = accountId && region ? { accountId, region } : undefined;
  // a member's key is `<account>/<region>/<instance>`: the view names the instance
  const rest = { ...stored, ...(typeof stored.instanceId === 'string' ? { instanceId: stored.instanceId.slice(stored.instanceId.lastIndexOf('/') + 1) } : {}), ...(place ? { place } : {}) };
  const byHook = new Map<string, NotedLifecycleAction>();
  if (legacy) byHook.set(legacy.lifecycleHookName, { ...legacy, openedAt: item.updatedAt, state: LEGACY_COMPLETED.has(item.status) ? 'completed' : 'open' });
  for (const [hook, action] of Object.entries(actions ?? {})) byHook.set(hook, action);
  return { ...rest, generation: rest.generation ?? 0, triggers: rest.triggers ?? [], lifecycleActions: [...byHook.values()], revision: revision ?? 0 };
}

/** The record's key: the instance id in the hub's own place (no place), `<account>/<region>/<instance>` in a member's. */
export function drainRecordKey(instanceId: string, place?: Place): string {
  return place ? `${placeKey(place)}/${instanceId}` : instanceId;
}

/**
 * The drain records of one place (the table is the hub's, in the hub's scope): `at(place)`
 * gives another place's, sharing the client.
 */
export class DrainRecords {
  private readonly doc: DynamoDBDocumentClient;
  private readonly places = new Map<string, DrainRecords>();
  /** the hub's own place's records, whose `at` every place's shares */
  private root: DrainRecords = this;

  constructor(
    /** the hub's scope: the table is the hub's, whatever the place */
    private readonly scope: AwsScope,
    private readonly table: string,
    /** absent: the hub's own place */
    readonly place?: Place,
  ) {
    this.doc = documentClientOf(scope);
  }

  /** The records of the instances of `place` (undefined: the hub's own), with the same client. */
  at(place: Place | undefined): DrainRecords {
    const root = this.root;
    if (!place) return root;
    const key = placeKey(place);
    let records = root.places.get(key);
    if (!records) {
      records = new DrainRecords(root.scope, root.table, place);
      records.root = root;
      root.places.set(key, records);
    }
    return records;
  }

  async get(instanceId: string): Promise<DrainRecord | undefined> {
    const key = drainRecordKey(instanceId, this.place);
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { instanceId: key }, ConsistentRead: true })));
    return out.Item ? fromItem(out.Item as StoredRecord) : undefined;
  }

  /**
   * Writes `change` if the record is still as `seen` (undefined: there was none). Returns the
   * record as it now is, or undefined when it changed meanwhile: read again, decide again.
   */
  async write(instanceId: string, seen: DrainRecord | undefined, change: DrainRecordChange, now: Date): Promise<DrainRecord | undefined> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt', '#expiresAt': 'expiresAt', '#revision': 'revision' };
    const values: Record<string, unknown> = { ':updatedAt': now.toISOString(), ':expiresAt': Math.floor(now.getTime() / 1000) + RETENTION_SECONDS, ':revision': (seen?.revision ?? 0) + 1 };
    const sets = ['#updatedAt = :updatedAt', '#expiresAt = :expiresAt', '#revision = :revision'];
    const removes: string[] = [];
    const set = (attribute: string, value: unknown) => {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    };
    const fresh = seen === undefined;
    if (fresh && this.place) {
      set('accountId', this.place.accountId);
      set('region', this.place.region);
    }
    if (change.cluster !== undefined) set('cluster', change.cluster);
    if (change.status !== undefined || fresh) set('status', change.status ?? 'none');
    if (change.generation !== undefined || fresh) set('generation', change.generation ?? 0);
    if (change.executionArn !== undefined) set('executionArn', change.executionArn);
    if (change.leaseUntil !== undefined) set('leaseUntil', change.leaseUntil);
    if (change.lifecycleActions !== undefined) {
      set('actions', Object.fromEntries(change.lifecycleActions.map((a) => [a.lifecycleHookName, a])));
      // the old single action is one of them now
      names['#legacyAction'] = 'lifecycleAction';
      removes.push('#legacyAction');
    }
    if (change.trigger !== undefined) {
      Object.assign(names, { '#triggers': 'triggers' });
      Object.assign(values, { ':trigger': [change.trigger], ':noTriggers': [] });
      sets.push('#triggers = list_append(if_not_exists(#triggers, :noTriggers), :trigger)');
    }
    let condition: string;
    if (fresh) condition = 'attribute_not_exists(instanceId)';
    else if (seen.revision === 0) condition = 'attribute_exists(instanceId) AND attribute_not_exists(#revision)';
    else {
      condition = '#revision = :seenRevision';
      values[':seenRevision'] = seen.revision;
    }
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { instanceId: drainRecordKey(instanceId, this.place) },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes ? fromItem(out.Attributes as StoredRecord) : undefined;
  }
}
