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
