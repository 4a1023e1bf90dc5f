import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/**
 * DynamoDB for the sandbox, served for real by dynalite (in memory) on 127.0.0.1. Clients
 * reach it through the standard `AWS_ENDPOINT_URL_DYNAMODB` variable, so the service's
 * DynamoDB code runs unchanged.
 */
export interface SimDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A real DynamoDB (dynalite) with the node group locks table, for the lock tests: the same
 * key schema serverless.yml gives RolloutsTable.
 */
export async function startLocksTable(table: string): Promise<{ dynamo: SimDynamo; client: DynamoDBClient; close: () => Promise<void> }> {
  const dynamo = await startDynalite();
  const client = new DynamoDBClient({ region: 'eu-west-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }],
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

export async function startDynalite(): Promise<SimDynamo> {
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
