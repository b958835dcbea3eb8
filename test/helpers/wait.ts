// Test waiting helpers: hard timeouts around promises, events and polled counters; skip markers for missing real backends.
//
// Tests never sleep: they wait on an event (or, for counters that emit none, poll) and every
// wait has a hard timeout that rejects with a message naming what was awaited.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { EventEmitter } from 'node:events';
import type { Callback, Test } from 'uvu';

/** A wait that ran out of time; the message names what was awaited. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Resolves like `promise`, or rejects with a TimeoutError naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // The timer stays referenced on purpose: a promise that can never settle must still end
    // the test with this message instead of letting the process drain and exit silently.
    const timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Resolves with the arguments of the next `event`, rejects on timeout, and rejects early if the
 * emitter emits 'error' first (unless 'error' is the awaited event).
 */
export function once(emitter: EventEmitter, event: string, ms: number): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'error') emitter.off('error', onError);
    };
    const onEvent = (...args: unknown[]) => {
      cleanup();
      resolve(args);
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(err instanceof Error ? err : new Error(`'error' emitted while waiting for '${event}': ${String(err)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new TimeoutError(`timed out after ${ms} ms waiting for event '${event}'`));
    }, ms);
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}

/**
 * Polls `predicate` every `intervalMs` until it returns true. Only for state that emits no event
 * (counters, files); anything with an event should use `once`.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  ms: number,
  intervalMs = 5,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new TimeoutError(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

const announcedSkips = new Set<string>();

/**
 * The skip convention of `npm test` (see scripts/run-tests.ts): returns `test` itself when
 * `condition` holds, otherwise a function that registers each test with uvu's `test.skip`, so it
 * counts as Skipped, and prints `# skip: <reason>` once, which the runner shows beside the file.
 *
 *   const php = skipUnless(FastCgiReal, which('php-cgi') !== null, 'php-cgi not installed');
 *   php('serves index.php', async () => { ... });
 */
export function skipUnless<T>(
  test: Test<T>,
  condition: boolean,
  reason: string,
): (name: string, fn: Callback<T>) => void {
  if (condition) return test;
  if (!announcedSkips.has(reason)) {
    announcedSkips.add(reason);
    process.stdout.write(`# skip: ${reason}\n`);
  }
  return (name, fn) => test.skip(name, fn);
}

/** The full path of `binary` if it is an executable file on PATH (or a path to one), else null. */
export function which(binary: string): string | null {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '').map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there or not executable: try the next PATH entry.
    }
  }
  return null;
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `p` must reject with a message matching `re` (a start that has to fail). */
export async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  let failed = false;
  try {
    await p;
  } catch (err) {
    failed = true;
    const message = (err as Error).message;
    if (!re.test(message)) throw new Error(`rejected with "${message}", expected ${re}`);
  }
  if (!failed) throw new Error(`expected a rejection matching ${re}`);
}
