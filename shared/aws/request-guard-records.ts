import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from './call.js';
import { ChatopsItems } from './chatops-items.js';

/**
 * What guards chat requests, in the chat-ops table:
 * - `request#<signature or caller and request id>` / `request` — a signed request seen, and whether its work ran;
 * - `rate#<principal>` / `<minute>` — a person's commands in that minute;
 * - `forced-drain#<grant id>` / `grant` — a person's authorized `drain --force` of one instance.
 */
export class RequestGuardRecords extends ChatopsItems {
  /** Writes the request unless it was seen; false when it was. */
  async putRequestOnce(key: string, acceptedAt: string, expiresAt: number): Promise<boolean> {
    return this.putNew({ pk: requestKey(key), sk: 'request', acceptedAt, expiresAt });
  }

  /** Sets `ranAt` on a request seen, unless set; true only for the write that set it. */
  async setRanOnce(key: string, ranAt: string): Promise<boolean> {
    return this.setIfExists(requestKey(key), 'request', { ranAt }, 'attribute_not_exists(#ranAt)');
  }

  /** Adds one to the principal's count of `minute` unless it reached `limit`; false when it had. */
  async countUnder(principal: string, minute: string, limit: number, expiresAt: number): Promise<boolean> {
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: rateKey(principal), sk: minute },
          UpdateExpression: 'ADD #count :one SET #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expiresAt': expiresAt },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return out !== undefined;
  }

  /** Writes a new grant (its random id never collides; should it, the write fails). */
  async putGrant(id: string, grant: { instanceId: string; by: string; grantedAt: string; deadline: number; expiresAt: number }): Promise<void> {
    await callAws('dynamodb:PutItem', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: forcedDrainKey(id), sk: 'grant', ...grant }, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
  }

  /** Sets `usedAt` on the grant if unused, for `instanceId`, and before its deadline (epoch ms); the grant as written, or undefined. */
  async useGrant(id: string, instanceId: string, usedAt: string, now: number): Promise<{ by?: unknown } | undefined> {
    return this.updateIfExists(forcedDrainKey(id), 'grant', { usedAt }, {
      condition: 'attribute_not_exists(#usedAt) AND #instanceId = :instance AND #deadline > :now',
      names: { '#instanceId': 'instanceId', '#deadline': 'deadline' },
      values: { ':instance': instanceId, ':now': now },
    });
  }
}

function requestKey(key: string): string {
  return `request#${key}`;
}

function rateKey(principal: string): string {
  return `rate#${principal}`;
}

function forcedDrainKey(id: string): string {
  return `forced-drain#${id}`;
}
