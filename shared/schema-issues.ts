/**
 * Schema failures as the issues our typed errors carry (`InvalidInputError`,
 * `ConfigurationError`): a dotted path and a message a person can act on.
 *
 * The schemas use `zod/mini`, which tree-shakes to a few tens of KB where classic `zod` puts
 * ~440 KB in every bundle; but mini, unlike classic, does not load any locale, so every
 * built-in check would fail with a bare "Invalid input". Loading the English messages here
 * (~3 KB; importing `locales` as a namespace would pull in all ~50 of them) gives the same
 * texts classic zod gave. Every place that turns a zod error into words goes through this
 * module, so the messages are loaded wherever they are read. Zod writes an issue's message
 * while parsing, and this runs at import, before any parse.
 */
import { config, type core } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { InvalidInputError } from './errors.js';

config(en());

export interface SchemaIssue {
  /** dotted, '' for the value itself */
  path: string;
  message: string;
}

/** Every issue of a failed parse, each path under `prefix` when one is given. */
export function issuesOf(error: core.$ZodError, prefix = ''): SchemaIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

/** An input that failed its schema, as the typed error; the first ten issues are enough to act on. */
export function invalidInput(error: core.$ZodError, prefix = ''): InvalidInputError {
  return new InvalidInputError(issuesOf(error, prefix).slice(0, 10), { cause: error });
}
