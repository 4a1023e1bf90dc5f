import { InvalidName, ValidationException } from '@aws-sdk/client-sfn';

/**
 * Step Functions' quotas on what an API call may carry and on what an execution may hold
 * (Standard workflows), as AWS documents them:
 * - https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html — names 1–80
 *   characters without whitespace, brackets, wildcards, special or control characters;
 *   "Maximum input or output size for a task, state, or execution: 262,144 bytes of data as a
 *   UTF-8 encoded string"; "Maximum execution history size: 25,000 events".
 * - https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 *   (and API_SendTaskSuccess / API_SendTaskFailure / API_SendTaskHeartbeat / API_StopExecution):
 *   `name` 1–80, also no surrogates, U+FFFE–FFFF or U+10FFFF; `input` / `output` at most
 *   262,144 ("Length constraints apply to the payload size, and are expressed as bytes in UTF-8
 *   encoding"); `taskToken` 1–2048; `error` at most 256, `cause` at most 32,768.
 * A value past a length constraint is refused before the operation runs, with the
 * ValidationException every AWS JSON API answers ("1 validation error detected: Value 'x' at
 * 'name' failed to satisfy constraint: Member must have length less than or equal to 80", as
 * StartExecution words it, and moto does); a name within length but with a refused character
 * is the operation's own InvalidName.
 */
export const HISTORY_EVENT_LIMIT = 25_000;
export const PAYLOAD_LIMIT_BYTES = 262_144;

/** The cause of an execution failed by the history quota (error States.Runtime). */
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${HISTORY_EVENT_LIMIT}).`;

const NAME_LENGTH = { min: 1, max: 80 };
const TOKEN_LENGTH = { min: 1, max: 2048 };
const ERROR_LENGTH = { max: 256 };
const CAUSE_LENGTH = { max: 32_768 };

/**
 * What a name must not contain: white space; < > { } [ ]; ? *; " # % \ ^ | ~ ` $ & , ; : /;
 * control characters U+0000–001F, U+007F–009F, U+FFFE–FFFF; surrogates (with the `u` flag a
 * class of them matches only a lone one: a pair is one code point, allowed); U+10FFFF.
 * Other non-ASCII characters are allowed (CloudWatch metrics then do not work for it).
 */
const REFUSED_IN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff\u{10ffff}]/u;

interface Constraint {
  field: string;
  value: string | undefined;
  required?: boolean;
  min?: number;
  max: number;
  /** measured in UTF-8 bytes (a payload), not in characters */
  utf8?: boolean;
  /** its value is not echoed in the message (the API's Sensitive… shapes) */
  sensitive?: boolean;
}

/** The model's length constraints on a request, checked together as AWS checks them. */
function checkConstraints(constraints: Constraint[]): void {
  const violations: string[] = [];
  for (const c of constraints) {
    const at = (value: string | undefined) => (value === undefined ? `Value null at '${c.field}'` : c.sensitive ? `Value at '${c.field}'` : `Value '${value}' at '${c.field}'`);
    if (c.value === undefined) {
      if (c.required) violations.push(`${at(undefined)} failed to satisfy constraint: Member must not be null`);
      continue;
    }
    const length = c.utf8 ? payloadBytes(c.value) : c.value.length;
    if (length > c.max) violations.push(`${at(c.value)} failed to satisfy constraint: Member must have length less than or equal to ${c.max}`);
    else if (c.min !== undefined && length < c.min) violations.push(`${at(c.value)} failed to satisfy constraint: Member must have length greater than or equal to ${c.min}`);
  }
  if (violations.length === 0) return;
  const count = `${violations.length} validation error${violations.length === 1 ? '' : 's'} detected`;
  throw new ValidationException({ message: `${count}: ${violations.join('; ')}`, $metadata: {} });
}

export function checkStartExecution(name: string | undefined, input: string | undefined): void {
  checkConstraints([
    { field: 'name', value: name, ...NAME_LENGTH },
    { field: 'input', value: input, max: PAYLOAD_LIMIT_BYTES, utf8: true, sensitive: true },
  ]);
  if (name !== undefined && REFUSED_IN_NAME.test(name)) throw new InvalidName({ message: `Invalid Name: '${name}'`, $metadata: {} });
}

export function checkTaskToken(taskToken: string | undefined): void {
  checkConstraints([{ field: 'taskToken', value: taskToken, required: true, ...TOKEN_LENGTH }]);
}

export function checkSendTaskSuccess(taskToken: string | undefined, output: string | undefined): void {
  checkConstraints([
    { field: 'taskToken', value: taskToken, required: true, ...TOKEN_LENGTH },
    { field: 'output', value: output, required: true, max: PAYLOAD_LIMIT_BYTES, utf8: true, sensitive: true },
  ]);
}

/** SendTaskFailure's and StopExecution's error and cause (`token` only for the former). */
export function checkErrorAndCause(error: string | undefined, cause: string | undefined, token?: { taskToken: string | undefined }): void {
  checkConstraints([
    ...(token ? [{ field: 'taskToken', value: token.taskToken, required: true, ...TOKEN_LENGTH }] : []),
    { field: 'error', value: error, sensitive: true, ...ERROR_LENGTH },
    { field: 'cause', value: cause, sensitive: true, ...CAUSE_LENGTH },
  ]);
}

/** UTF-8 bytes of a payload: a JSON text as given, any other value as its JSON. */
export function payloadBytes(value: unknown): number {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Whether a value (a state's output, a task's result or parameters) is over the payload
 * quota. Cheap in the common case: a text of n UTF-16 units has between n and 3n UTF-8 bytes.
 */
export function overPayloadLimit(value: unknown): boolean {
  const text = JSON.stringify(value) ?? 'null';
  if (text.length * 3 <= PAYLOAD_LIMIT_BYTES) return false;
  if (text.length > PAYLOAD_LIMIT_BYTES) return true;
  return Buffer.byteLength(text, 'utf8') > PAYLOAD_LIMIT_BYTES;
}
