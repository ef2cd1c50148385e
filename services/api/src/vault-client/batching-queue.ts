interface Pending<Req, Res> {
  request: Req;
  resolve: (result: Res) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent calls into batches without adding latency: a request goes out at once
 * while fewer than `maxInFlight` batches are in flight; otherwise it waits for the next free slot
 * and goes together with everything else that queued meanwhile (at most `maxBatch` per batch).
 * Idle or lightly loaded, every request travels alone; under load, batches grow by themselves.
 */
export class BatchingQueue<Req, Res> {
  private readonly queue: Pending<Req, Res>[] = [];
  private inFlight = 0;

  constructor(
    private readonly send: (requests: Req[]) => Promise<Res[]>,
    private readonly options: { maxInFlight: number; maxBatch: number },
  ) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.send(batch.map((p) => p.request))
        .then((results) => {
          if (results.length !== batch.length) throw new Error('batch answer does not match the batch');
          batch.forEach((p, i) => p.resolve(results[i]!));
        })
        .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }
}
