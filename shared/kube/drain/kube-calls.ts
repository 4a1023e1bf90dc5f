import { KubernetesUnavailableError } from '../../errors.js';
import { callKube, kubeStatus } from '../client.js';

/**
 * The Kubernetes requests of one pass: counted (a pass reports how many it made) and
 * mapped to typed errors by `callKube`. A caller may first turn an error it expects into an
 * answer (a 404 that means "gone", a 429 that means "blocked"); the API server's own
 * throttling (429 elsewhere) is retryable, like a 5xx.
 */
export class KubeCalls {
  private count = 0;

  constructor(readonly cluster: string) {}

  get requests(): number {
    return this.count;
  }

  async call<T>(operation: string, request: () => Promise<T>, answer?: (error: unknown) => T | undefined): Promise<T> {
    this.count++;
    try {
      return await request();
    } catch (error) {
      const answered = answer?.(error);
      if (answered !== undefined) return answered;
      return this.fail(operation, error);
    }
  }

  private async fail(operation: string, error: unknown): Promise<never> {
    if (kubeStatus(error) === 429) {
      throw new KubernetesUnavailableError(this.cluster, `${operation}: HTTP 429 (the API server is throttling)`, { cause: error });
    }
    return callKube(this.cluster, operation, () => Promise.reject(error));
  }
}

/** For `answer`: a 404 is the answer `value`. */
export function notFoundAs<T>(value: T): (error: unknown) => T | undefined {
  return (error) => (kubeStatus(error) === 404 ? value : undefined);
}
