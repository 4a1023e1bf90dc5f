import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from './call.js';
import { ChatopsItems, type Item } from './chatops-items.js';

/**
 * The approvals' items in the chat-ops table:
 * - `approval#<id>` / `approval` — the approval with its Step Functions task token, the
 *   requester as a person (`requesterPerson`) and its deadline in epoch milliseconds
 *   (`deadline`): what the conditional answer compares;
 * - `approvals#<cluster>` / `<id>` — the cluster's pointer to it, with its deadline, gone with it.
 * Reads return the approval's own attributes: keys, TTL, `deadline` and `requesterPerson` left out.
 */
export class ApprovalRecords extends ChatopsItems {
  /** The cluster's pointer to the approval: written first, so no approval is ever unlisted. */
  async putPointer(cluster: string, id: string, deadline: number, expiresAt: number): Promise<void> {
    await this.put({ pk: clusterApprovalsKey(cluster), sk: id, deadline, expiresAt });
  }

  /** Writes the approval unless one has its id; false when one had. */
  async create(approval: Item & { id: string }, stored: { requesterPerson: string; deadline: number; expiresAt: number }): Promise<boolean> {
    return this.putNew({ pk: approvalKey(approval.id), sk: 'approval', ...approval, ...stored });
  }

  /** Replaces the task token while the approval of `executionArn` is pending; the approval as written, or undefined. */
  async replaceTokenIfPending(id: string, executionArn: string, taskToken: string): Promise<Item | undefined> {
    return this.update(id, {
      update: 'SET #taskToken = :token',
      condition: '#status = :pending AND #executionArn = :arn',
      names: { '#taskToken': 'taskToken', '#status': 'status', '#executionArn': 'executionArn' },
      values: { ':token': taskToken, ':pending': 'pending', ':arn': executionArn },
    });
  }

  async getApproval(id: string): Promise<Item | undefined> {
    const item = await this.get(approvalKey(id), 'approval');
    return item ? approvalOf(item) : undefined;
  }

  /** The ids the cluster's pointers name whose deadline (epoch ms) is after `now`: one Query, paged. */
  async idsPointedAt(cluster: string, now: number): Promise<string[]> {
    return (await this.queryAll(clusterApprovalsKey(cluster))).filter((item) => Number(item.deadline) > now).map((item) => String(item.sk));
  }

  /**
   * Records an answer with one conditional write: only while the approval is pending, before
   * its deadline (`now`, epoch ms), and not by the requester (`person`). The approval as
   * written, or undefined when refused.
   */
  async recordAnswer(id: string, answer: { status: string; by: string; person: string; at: string; now: number; reason?: string }): Promise<Item | undefined> {
    const names: Record<string, string> = { '#status': 'status', '#answeredBy': 'answeredBy', '#answeredAt': 'answeredAt', '#requesterPerson': 'requesterPerson', '#deadline': 'deadline' };
    const values: Record<string, unknown> = { ':decision': answer.status, ':by': answer.by, ':person': answer.person, ':at': answer.at, ':pending': 'pending', ':now': answer.now };
    let update = 'SET #status = :decision, #answeredBy = :by, #answeredAt = :at';
    if (answer.reason) {
      names['#reason'] = 'reason';
      values[':reason'] = answer.reason;
      update += ', #reason = :reason';
    }
    return this.update(id, { update, condition: 'attribute_exists(pk) AND #status = :pending AND #requesterPerson <> :person AND #deadline > :now', names, values });
  }

  /** Sets `expired` (at `at`) while the approval is pending — or, `evenIfAnswered`, whatever it is but expired. The approval as written, or undefined. */
  async markExpired(id: string, at: string, evenIfAnswered: boolean): Promise<Item | undefined> {
    return this.update(id, {
      update: 'SET #status = :expired, #expiredAt = :at',
      condition: evenIfAnswered ? 'attribute_exists(pk) AND #status <> :expired' : 'attribute_exists(pk) AND #status = :pending',
      names: { '#status': 'status', '#expiredAt': 'expiredAt' },
      values: evenIfAnswered ? { ':expired': 'expired', ':at': at } : { ':expired': 'expired', ':pending': 'pending', ':at': at },
    });
  }

  /** Sets `sentAt` unless it is set; true only for the write that set it. */
  async setSentOnce(id: string, at: string): Promise<boolean> {
    return this.setIfExists(approvalKey(id), 'approval', { sentAt: at }, 'attribute_not_exists(#sentAt)');
  }

  /** Sets `message`; false when there is no such approval. */
  async setMessage(id: string, message: { channel: string; ts: string }): Promise<boolean> {
    const written = await this.update(id, {
      update: 'SET #message = :message',
      condition: 'attribute_exists(pk)',
      names: { '#message': 'message' },
      values: { ':message': { channel: message.channel, ts: message.ts } },
    });
    return written !== undefined;
  }

  /** One conditional UpdateItem of the approval; the approval as written, or undefined when the condition failed. */
  private async update(id: string, change: { update: string; condition: string; names: Record<string, string>; values: Item }): Promise<Item | undefined> {
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: approvalKey(id), sk: 'approval' },
          UpdateExpression: change.update,
          ConditionExpression: change.condition,
          ExpressionAttributeNames: change.names,
          ExpressionAttributeValues: change.values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes ? approvalOf(out.Attributes) : undefined;
  }
}

function approvalKey(id: string): string {
  return `approval#${id}`;
}

function clusterApprovalsKey(cluster: string): string {
  return `approvals#${cluster}`;
}

/** The approval from a stored item: the table's own attributes (keys, TTL, deadline, requester as a person) left out. */
function approvalOf(item: Item): Item {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, deadline: _deadline, requesterPerson: _person, ...approval } = item;
  return approval;
}
