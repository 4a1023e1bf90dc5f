/**
 * A route binds one SDK command class to the sandbox function that answers it. The input
 * and output types are taken from the command class itself, so a handler that returns a
 * field with the wrong shape fails to compile against the real SDK models.
 */
import type { ServiceName } from './errors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommandClass = new (input: any) => { readonly input: unknown; resolveMiddleware(...args: any[]): unknown };

export type CommandInput<C extends AnyCommandClass> = InstanceType<C>['input'];

export type CommandOutput<C extends AnyCommandClass> =
  ReturnType<InstanceType<C>['resolveMiddleware']> extends (...args: never[]) => Promise<{ output: infer O }>
    ? Omit<O, '$metadata'>
    : never;

export interface Route {
  readonly service: ServiceName;
  readonly command: AnyCommandClass;
  /** `DescribeInstances` (the class name without `Command`). */
  readonly name: string;
  readonly handle: (input: unknown) => unknown;
}

export function route<C extends AnyCommandClass>(
  service: ServiceName,
  command: C,
  handle: (input: CommandInput<C>) => CommandOutput<C>,
): Route {
  return { service, command, name: commandName(command), handle: handle as (input: unknown) => unknown };
}

export function commandName(command: { name: string }): string {
  return command.name.replace(/Command$/, '');
}
