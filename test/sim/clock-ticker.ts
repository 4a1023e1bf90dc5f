import { setTimeout as sleep } from 'node:timers/promises';
import type { VirtualClock } from './clock.js';

/**
 * Keeps the virtual clock moving in real time, for a process outside the sandbox that waits
 * in real time (`kubectl drain` polls every second and retries a refused eviction after five):
 * without it, an evicted pod would never finish terminating and its replacement never become
 * Ready. Each tick runs the world for `virtualMsPerTick`, then pauses `realMsPerTick` real
 * milliseconds; ticks never overlap. The defaults run about 200 virtual seconds per real
 * second, so a 30 s grace period passes in well under a real second.
 */

export interface TickerOptions {
  /** virtual milliseconds each tick advances the clock; default 1000 */
  virtualMsPerTick?: number;
  /** real milliseconds between ticks; default 5 */
  realMsPerTick?: number;
}

/**
 * Stops the ticker; resolves once the tick under way has finished, and rejects with the
 * error a tick failed with (a controller that threw), if one did.
 */
export type StopTicker = () => Promise<void>;

export function startTicker(clock: VirtualClock, options: TickerOptions = {}): StopTicker {
  const virtualMsPerTick = options.virtualMsPerTick ?? 1000;
  const realMsPerTick = options.realMsPerTick ?? 5;
  if (!(virtualMsPerTick > 0) || !(realMsPerTick >= 0)) {
    throw new Error(`startTicker: virtualMsPerTick must be > 0 and realMsPerTick ≥ 0, got ${virtualMsPerTick} and ${realMsPerTick}`);
  }
  let stopped = false;
  const ticking = (async function tick(): Promise<void> {
    while (!stopped) {
      await clock.advance(virtualMsPerTick);
      if (!stopped) await sleep(realMsPerTick);
    }
  })();
  // a failed tick ends the loop; keep the error for stop() rather than crash the process
  ticking.catch(() => undefined);

  return async function stopTicker() {
    stopped = true;
    await ticking;
  };
}
