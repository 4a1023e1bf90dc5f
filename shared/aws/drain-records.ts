import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DrainTriggerKind } from '../events/drain.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import { callAws, conditionalWrite } from './call.js';

/**
 * One record per instance in the drains table: which drain execution owns the instance,
 * the lifecycle action to complete (whichever trigger brought it: a spot warning may start
 * the drain and the terminate hook arrive later), and how the drain ended. It is what makes
 * several triggers for one instance one drain, and what lets a late hook be completed at
 * once when the node is already drained.
 */
export type DrainStatus = 'running' | 'drained' | 'forced' | 'failed' | 'node-gone';

export interface DrainRecord {
  instanceId: string;
  cluster: string;
  status: DrainStatus;
  /** bumped when a new drain starts after a failed one; part of the execution name */
  generation: number;
  triggers: DrainTriggerKind[];
  lifecycleAction?: LifecycleAction;
  executionArn?: string;
  updatedAt: string;
  /** epoch seconds: DynamoDB TTL */
  expiresAt: number;
}

const RETENTION_SECONDS = 14 * 86_400;

export class DrainRecords {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(instanceId: string): Promise<DrainRecord | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { instanceId }, ConsistentRead: true })));
    return out.Item as DrainRecord | undefined;
  }

  /**
   * Notes a trigger, and its lifecycle action if it brought one; `start` also marks the record
   * running with the given generation. Returns the record as it now is.
   */
  async note(
    instanceId: string,
    change: { cluster: string; trigger: DrainTriggerKind; lifecycleAction?: LifecycleAction; start?: { generation: number; executionArn: string } },
    now: Date,
  ): Promise<DrainRecord> {
    const names: Record<string, string> = { '#cluster': 'cluster', '#triggers': 'triggers', '#updatedAt': 'updatedAt', '#expiresAt': 'expiresAt' };
    const values: Record<string, unknown> = {
      ':cluster': change.cluster,
      ':trigger': [change.trigger],
      ':empty': [],
      ':now': now.toISOString(),
      ':expires': Math.floor(now.getTime() / 1000) + RETENTION_SECONDS,
    };
    const sets = [
      '#cluster = :cluster',
      '#triggers = list_append(if_not_exists(#triggers, :empty), :trigger)',
      '#updatedAt = :now',
      '#expiresAt = :expires',
    ];
    if (change.lifecycleAction) {
      names['#lifecycleAction'] = 'lifecycleAction';
      values[':lifecycleAction'] = change.lifecycleAction;
      sets.push('#lifecycleAction = :lifecycleAction');
    }
    if (change.start) {
      Object.assign(names, { '#status': 'status', '#generation': 'generation', '#executionArn': 'executionArn' });
      Object.assign(values, { ':running': 'running', ':generation': change.start.generation, ':executionArn': change.start.executionArn });
      sets.push('#status = :running', '#generation = :generation', '#executionArn = :executionArn');
    } else {
      Object.assign(names, { '#status': 'status', '#generation': 'generation' });
      Object.assign(values, { ':none': 'none', ':zero': 0 });
      sets.push('#status = if_not_exists(#status, :none)', '#generation = if_not_exists(#generation, :zero)');
    }
    const out = await callAws('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { instanceId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out.Attributes as DrainRecord;
  }

  /**
   * The node is back in service (a rollback uncordoned it): its drain no longer holds, so the
   * next trigger drains it afresh (as after a failed drain). Only the execution that owns the
   * record may; an instance with no record keeps none.
   */
  async release(instanceId: string, executionArn: string, now: Date): Promise<void> {
    await this.setStatus(instanceId, 'failed', { condition: '#executionArn = :executionArn', executionArn }, now);
  }

  /** Records how a drain ended; only the execution that owns the record may. */
  async finish(instanceId: string, status: Exclude<DrainStatus, 'running'>, executionArn: string | undefined, now: Date): Promise<DrainRecord | undefined> {
    return executionArn
      ? this.setStatus(instanceId, status, { condition: 'attribute_not_exists(#executionArn) OR #executionArn = :executionArn', executionArn }, now)
      : this.setStatus(instanceId, status, { condition: 'attribute_exists(instanceId)' }, now);
  }

  /** One conditional status write; undefined when the condition did not hold. */
  private async setStatus(instanceId: string, status: Exclude<DrainStatus, 'running'>, guard: { condition: string; executionArn?: string }, now: Date): Promise<DrainRecord | undefined> {
    const owner = guard.executionArn !== undefined;
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { instanceId },
          UpdateExpression: 'SET #status = :status, #updatedAt = :now',
          ConditionExpression: guard.condition,
          ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', ...(owner ? { '#executionArn': 'executionArn' } : {}) },
          ExpressionAttributeValues: { ':status': status, ':now': now.toISOString(), ...(owner ? { ':executionArn': guard.executionArn } : {}) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes as DrainRecord | undefined;
  }
}
