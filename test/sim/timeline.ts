import type { VirtualClock } from './clock.js';

/**
 * What happened in the sandbox, in virtual-time order, for people: `npm start` prints it and
 * scenario tests attach it to failures.
 */
export type TimelineSource = 'aws' | 'event' | 'lambda' | 'workflow' | 'kube' | 'scenario' | 'notify';

export interface TimelineEntry {
  at: number;
  source: TimelineSource;
  message: string;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private listeners: ((entry: TimelineEntry) => void)[] = [];

  constructor(
    private readonly clock: VirtualClock,
    private readonly origin = clock.now(),
  ) {}

  add(source: TimelineSource, message: string): void {
    const entry = { at: this.clock.now(), source, message };
    this.entries.push(entry);
    for (const listener of this.listeners) listener(entry);
  }

  onEntry(listener: (entry: TimelineEntry) => void): void {
    this.listeners.push(listener);
  }

  format(entry: TimelineEntry): string {
    const elapsed = Math.max(0, Math.round((entry.at - this.origin) / 1000));
    const hh = String(Math.floor(elapsed / 3600)).padStart(2, '0');
    const mm = String(Math.floor((elapsed % 3600) / 60)).padStart(2, '0');
    const ss = String(elapsed % 60).padStart(2, '0');
    return `+${hh}:${mm}:${ss}  ${entry.source.padEnd(8)}  ${entry.message}`;
  }

  toString(): string {
    return this.entries.map((e) => this.format(e)).join('\n');
  }
}
