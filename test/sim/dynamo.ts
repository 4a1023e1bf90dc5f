import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';

/**
 * DynamoDB for the sandbox, served for real by dynalite (in memory) on 127.0.0.1. Clients
 * reach it through the standard `AWS_ENDPOINT_URL_DYNAMODB` variable, so the service's
 * DynamoDB code runs unchanged.
 */
export interface SimDynamo {
  endpoint: string;
  close(): Promise<void>;
}

type TestTable = { dynamo: SimDynamo; client: DynamoDBClient; close: () => Promise<void> };

/** A real DynamoDB (dynalite) with one table of the given string keys (hash, then range). */
async function startTable(table: string, keys: [hash: string, range?: string]): Promise<TestTable> {
  const dynamo = await startDynalite();
  const client = new DynamoDBClient({ region: 'eu-west-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const [hash, range] = keys;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [hash, ...(range ? [range] : [])].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      KeySchema: [{ AttributeName: hash, KeyType: 'HASH' as const }, ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : [])],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    dynamo,
    client,
    close: async () => {
      client.destroy();
      await dynamo.close();
    },
  };
}

/** The node group locks table: the key serverless.yml gives RolloutsTable. */
export function startLocksTable(table: string): Promise<TestTable> {
  return startTable(table, ['lockKey']);
}

/** The chat-ops table (audit, approvals, Slack threads): the keys serverless.yml gives ChatopsTable. */
export function startChatopsTable(table: string): Promise<TestTable> {
  return startTable(table, ['pk', 'sk']);
}

export async function startDynalite(): Promise<SimDynamo> {
  // loaded when a table is wanted: most of the sandbox's users never start one
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
