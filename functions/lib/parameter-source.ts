import type { AwsScope } from '../../shared/aws/clients.js';
import { cachedSecret } from '../../shared/aws/secrets.js';

/**
 * A JSON document the operator keeps in SSM (the access policy, the promotion policy), re-read
 * every five minutes and parsed once per text. A parameter that does not exist reads as
 * `absent()` (the feature is not set up); a malformed one fails loudly (`parse` throws).
 */
export function parsedParameterSource<T>(aws: AwsScope, parameter: string, parse: (text: string) => T, absent: () => T): () => Promise<T> {
  const text = cachedSecret(aws, parameter);
  let parsed: { text: string; value: T } | undefined;
  return async () => {
    let current: string;
    try {
      current = await text();
    } catch (error) {
      if ((error as Error).cause instanceof Error && ((error as Error).cause as Error).name === 'ParameterNotFound') return absent();
      throw error;
    }
    if (parsed?.text !== current) parsed = { text: current, value: parse(current) };
    return parsed.value;
  };
}
