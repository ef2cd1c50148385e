import { BatchingQueue } from './batching-queue';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchingQueue', () => {
  it('sends a lone request at once, and batches what queues while the slots are busy', async () => {
    const calls: { batch: number[]; done: ReturnType<typeof deferred<number[]>> }[] = [];
    const queue = new BatchingQueue<number, number>(
      (batch) => {
        const done = deferred<number[]>();
        calls.push({ batch, done });
        return done.promise;
      },
      { maxInFlight: 1, maxBatch: 3 },
    );
    const first = queue.submit(1);
    expect(calls.map((c) => c.batch)).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((n) => queue.submit(n));
    expect(calls).toHaveLength(1); // the one slot is busy: 2..5 wait

    calls[0]!.done.resolve([10]);
    expect(await first).toBe(10);
    await settled();
    expect(calls.map((c) => c.batch)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.done.resolve([20, 30, 40]);
    await settled();
    expect(calls.map((c) => c.batch)).toEqual([[1], [2, 3, 4], [5]]);
    calls[2]!.done.resolve([50]);
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50]);
  });

  it('fails every request of a failed batch, and only those', async () => {
    let call = 0;
    const queue = new BatchingQueue<string, string>(
      async (batch) => {
        if (call++ === 0) throw new Error('vault down');
        return batch.map((s) => s.toUpperCase());
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    const a = queue.submit('a');
    const b = queue.submit('b');
    await expect(a).rejects.toThrow('vault down');
    expect(await b).toBe('B');
  });

  it('rejects a batch whose answer does not match it', async () => {
    const queue = new BatchingQueue<string, string>(async () => [], { maxInFlight: 2, maxBatch: 10 });
    await expect(queue.submit('a')).rejects.toThrow('does not match');
  });
});
