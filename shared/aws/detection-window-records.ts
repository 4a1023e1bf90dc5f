import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from './call.js';
import type { AwsScope } from './clients.js';
import { documentClientOf } from './dynamodb-documents.js';

const POINTER_KEY = 'detect-window#open';

/**
 * The AMI events' debounce windows in the rollouts table (key `lockKey`, TTL `expiresAt`):
 * the pointer to the open window (`detect-window#open`) and one item per window
 * (`detect-window#<id>`) with the string sets of its groups and images. Writes are
 * conditional (exactly one of two racing writers wins:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html)
 * and `ADD` to a set is idempotent.
 */
export class DetectionWindowRecords {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    scope: AwsScope,
    private readonly table: string,
  ) {
    this.doc = documentClientOf(scope);
  }

  /** Points at a new window unless the open one closes after `now` (epoch seconds); false when it does. */
  async openPointer(window: { id: string; detectAt: string; closesAt: number; expiresAt: number }, now: number): Promise<boolean> {
    const opened = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lockKey: POINTER_KEY },
          UpdateExpression: 'SET #window = :window, #detectAt = :detectAt, #closesAt = :closesAt, #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#closesAt) OR #closesAt <= :now',
          ExpressionAttributeNames: { '#window': 'window', '#detectAt': 'detectAt', '#closesAt': 'closesAt', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':window': window.id, ':detectAt': window.detectAt, ':closesAt': window.closesAt, ':now': now, ':expiresAt': window.expiresAt },
        }),
      ),
    );
    return opened !== undefined;
  }

  async getPointer(): Promise<{ window?: string; detectAt?: string; closesAt?: number } | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { lockKey: POINTER_KEY }, ConsistentRead: true })));
    return out.Item as { window?: string; detectAt?: string; closesAt?: number } | undefined;
  }

  /** Adds to the window's sets unless its detection read it (`closedAt`); false when it had. The TTL is set by the first write. */
  async add(id: string, add: { groups: Set<string>; images: Set<string>; detectAt: string; expiresAt: number }): Promise<boolean> {
    const joined = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lockKey: windowKey(id) },
          UpdateExpression: 'ADD #groups :groups, #images :images SET #detectAt = :detectAt, #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#closedAt)',
          ExpressionAttributeNames: { '#groups': 'groups', '#images': 'images', '#detectAt': 'detectAt', '#expiresAt': 'expiresAt', '#closedAt': 'closedAt' },
          ExpressionAttributeValues: { ':groups': add.groups, ':images': add.images, ':detectAt': add.detectAt, ':expiresAt': add.expiresAt },
        }),
      ),
    );
    return joined !== undefined;
  }

  /** Sets `closedAt` unless set (and the TTL unless set); the window's sets as they now are. */
  async close(id: string, closedAt: string, expiresAt: number): Promise<{ groups?: Set<string>; images?: Set<string> }> {
    const out = await callAws('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lockKey: windowKey(id) },
          UpdateExpression: 'SET #closedAt = if_not_exists(#closedAt, :now), #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ExpressionAttributeNames: { '#closedAt': 'closedAt', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':now': closedAt, ':expiresAt': expiresAt },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return (out.Attributes ?? {}) as { groups?: Set<string>; images?: Set<string> };
  }
}

function windowKey(id: string): string {
  return `detect-window#${id}`;
}
