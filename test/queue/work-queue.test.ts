/**
 * The controller's work queue: coalescing, batching of keys that are ready together, keys that
 * must run alone, per-key retries with backoff, and counts that stay right as keys move.
 * Time is a fake clock; the handler is a real async function.
 */
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/queue/work-queue.js';
import { FakeClock } from '../k8s/fake-clock.js';

const flush = () => new Promise((r) => setImmediate(r));

/** A queue whose handler records each batch and waits for the test to release it. */
function harness(options: { batchSize?: number; concurrency?: number; fail?: (key: string) => boolean } = {}) {
  const clock = new FakeClock();
  const batches: string[][] = [];
  const releases: Array<() => void> = [];
  const errors: Array<{ key: string; attempt: number; retryInMs: number }> = [];
  const queue = new WorkQueue<string>({
    timers: clock,
    quietMs: 5,
    maxWaitMs: 50,
    concurrency: options.concurrency ?? 1,
    batchSize: options.batchSize ?? 10,
    alone: (k) => k === '*',
    backoff: { baseMs: 1000, maxMs: 60_000, jitter: 0 },
    handler: async (keys) => {
      batches.push([...keys]);
      await new Promise<void>((r) => releases.push(r));
      const failed = keys.filter((k) => options.fail?.(k));
      return new Map(failed.map((k) => [k, new Error(`${k} failed`)]));
    },
    onError: (key, _err, attempt, retryInMs) => errors.push({ key, attempt, retryInMs }),
  });
  const release = async () => {
    releases.shift()?.();
    await flush();
  };
  return { clock, queue, batches, release, errors };
}

describe('WorkQueue', () => {
  it('hands keys that became ready together to one handler call, oldest first, up to batchSize', async () => {
    const { clock, queue, batches, release } = harness({ batchSize: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) queue.add(k);
    clock.advance(5);
    await flush();
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(queue.running).toBe(3);
    expect(queue.depth).toBe(2);
    await release();
    expect(batches).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    await release();
    expect(queue.depth).toBe(0);
    await queue.idle();
  });

  it('runs a key marked alone in a batch of its own, without holding back the others', async () => {
    const { clock, queue, batches, release } = harness({ batchSize: 10 });
    for (const k of ['a', '*', 'b']) queue.add(k);
    clock.advance(5);
    await flush();
    expect(batches).toEqual([['a', 'b']]);
    await release();
    expect(batches).toEqual([['a', 'b'], ['*']]);
    queue.add('c');
    clock.advance(5);
    await release();
    expect(batches).toEqual([['a', 'b'], ['*'], ['c']]);
    await release();
  });

  it('a key added while it runs runs once more after; added many times while waiting, once', async () => {
    const { clock, queue, batches, release } = harness();
    queue.add('a');
    clock.advance(5);
    await flush();
    queue.add('a');
    queue.add('a');
    expect(queue.depth).toBe(1); // running, and due again
    await release();
    expect(batches).toEqual([['a']]);
    clock.advance(5);
    await flush();
    expect(batches).toEqual([['a'], ['a']]);
    await release();
    expect(queue.depth).toBe(0);
  });

  it('isRunning() is true only while a handler processes the key, added again meanwhile or not', async () => {
    const { clock, queue, release } = harness({ fail: (k) => k === 'bad' });
    queue.add('a');
    expect([queue.isRunning('a'), queue.has('a')]).toEqual([false, true]); // debouncing
    clock.advance(5);
    expect(queue.isRunning('a')).toBe(false); // ready, not started yet
    await flush();
    expect(queue.isRunning('a')).toBe(true);
    queue.add('a');
    expect(queue.isRunning('a')).toBe(true); // due again after, still running
    await release();
    expect([queue.isRunning('a'), queue.has('a')]).toEqual([false, true]); // waiting to run again
    clock.advance(5);
    await flush();
    await release();
    expect([queue.isRunning('a'), queue.has('a')]).toEqual([false, false]);
    queue.add('bad');
    clock.advance(5);
    await flush();
    await release();
    expect([queue.isRunning('bad'), queue.has('bad')]).toEqual([false, false]); // backing off
    expect(queue.isRunning('never')).toBe(false);
  });

  it('retries only the keys that failed, with exponential backoff; the others are done', async () => {
    const { clock, queue, batches, release, errors } = harness({ fail: (k) => k === 'bad' });
    queue.add('ok');
    queue.add('bad');
    clock.advance(5);
    await flush();
    await release();
    expect(errors).toEqual([{ key: 'bad', attempt: 1, retryInMs: 1000 }]);
    expect(queue.depth).toBe(1); // 'bad' backing off
    await queue.idle(); // keys backing off do not hold idle()
    clock.advance(999);
    await flush();
    expect(batches).toHaveLength(1);
    clock.advance(1);
    await flush();
    await release();
    expect(batches).toEqual([['ok', 'bad'], ['bad']]);
    expect(errors.at(-1)).toEqual({ key: 'bad', attempt: 2, retryInMs: 2000 });
    // New information cuts the backoff short: the key runs after the usual debounce.
    queue.add('bad');
    clock.advance(5);
    await flush();
    expect(batches).toHaveLength(3);
    await release();
  });

  it('done() drops a key backing off, and its attempt count: its next failure backs off from the start', async () => {
    const { clock, queue, batches, release, errors } = harness({ fail: (k) => k === 'bad' });
    queue.add('bad');
    clock.advance(5);
    await flush();
    await release();
    clock.advance(1000);
    await flush();
    await release();
    expect(errors.at(-1)).toEqual({ key: 'bad', attempt: 2, retryInMs: 2000 });
    queue.done('bad'); // e.g. a full pass wrote the project meanwhile
    expect(queue.depth).toBe(0);
    clock.advance(10_000);
    await flush();
    expect(batches).toHaveLength(2); // the dropped retry never runs
    queue.done('never-added'); // unknown keys are ignored
    queue.add('bad');
    clock.advance(5);
    await flush();
    await release();
    expect(errors.at(-1)).toEqual({ key: 'bad', attempt: 1, retryInMs: 1000 });
  });

  it('done() leaves a key that is waiting or running alone', async () => {
    const { clock, queue, batches, release } = harness();
    queue.add('a');
    queue.done('a');
    clock.advance(5);
    await flush();
    expect(batches).toEqual([['a']]);
    queue.done('a');
    queue.add('a'); // added while running: runs once more
    await release();
    clock.advance(5);
    await flush();
    expect(batches).toEqual([['a'], ['a']]);
    await release();
  });

  it('a handler that throws has its whole batch retried', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const errors: string[] = [];
    const queue = new WorkQueue<string>({
      timers: clock,
      quietMs: 1,
      batchSize: 5,
      backoff: { baseMs: 100, maxMs: 1000, jitter: 0 },
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('database down');
      },
      onError: (key) => errors.push(key),
    });
    queue.add('a');
    queue.add('b');
    clock.advance(1);
    await flush();
    expect(errors.sort()).toEqual(['a', 'b']);
    clock.advance(100);
    await flush();
    expect(calls).toBe(2);
    expect(queue.depth).toBe(0);
  });

  it('keeps its counts exact through thousands of keys', async () => {
    const { clock, queue, batches, release } = harness({ batchSize: 64, concurrency: 2 });
    for (let i = 0; i < 5000; i++) queue.add(`k${i}`);
    expect(queue.depth).toBe(5000);
    clock.advance(5);
    await flush();
    expect(queue.running).toBe(128);
    while (batches.flat().length < 5000 || queue.running > 0) await release();
    expect(new Set(batches.flat()).size).toBe(5000);
    expect(Math.max(...batches.map((b) => b.length))).toBe(64);
    expect(queue.depth).toBe(0);
    await queue.idle();
  });

  it('stop() waits for the running batch and drops what was pending', async () => {
    const { clock, queue, batches, release } = harness({ batchSize: 1 });
    queue.add('a');
    queue.add('b');
    clock.advance(5);
    await flush();
    const stopped = queue.stop();
    await release();
    await stopped;
    expect(batches).toEqual([['a']]);
    expect(queue.depth).toBe(0);
    queue.add('c');
    clock.advance(100);
    await flush();
    expect(batches).toEqual([['a']]);
  });
});
