import { kubeFailure, kubeStatus } from '../client.js';

/**
 * The Kubernetes requests of one pass: counted (a pass reports how many it made) and
 * mapped to typed errors by `kubeFailure`. A caller may first turn an error it expects into
 * an answer (a 404 that means "gone", a 429 that means "blocked"); the API server's own
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
      throw kubeFailure(this.cluster, operation, error);
    }
  }
}

/** For `answer`: a 404 is the answer `value`. */
export function notFoundAs<T>(value: T): (error: unknown) => T | undefined {
  return (error) => (kubeStatus(error) === 404 ? value : undefined);
}
