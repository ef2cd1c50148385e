/**
 * Load generator for bench/api.ts, in its own process so it does not share an event loop with
 * the service or the orchestrator. GETs `BENCH_URL/v1/inquiries/<id>` over the ids in
 * BENCH_IDS_FILE, round-robin, with BENCH_KEY; prints one JSON line with the figures.
 *   - closed loop (autocannon, BENCH_CONNECTIONS in flight) for throughput;
 *   - open loop when BENCH_RATE is set: request i is due at start + i / rate, whatever the answers
 *     before it, and its latency counts from that due time (no coordinated omission). autocannon's
 *     own rate mode sends each connection's per-second budget in a burst, which measures bursts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';

import autocannon from 'autocannon';

import { percentile } from './lib';

const ids = readFileSync(process.env.BENCH_IDS_FILE!, 'utf8').trim().split('\n');
const url = new URL(process.env.BENCH_URL!);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const headers = { authorization: `Bearer ${process.env.BENCH_KEY!}` };

async function openLoop(rate: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = http.get(
          {
            host: url.hostname,
            port: url.port,
            path: `/v1/inquiries/${ids[i % ids.length]}`,
            headers,
            agent,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              latencies.push(performance.now() - due);
              if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
              resolve();
            });
          },
        );
        req.on('error', () => {
          errors++;
          resolve();
        });
      }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const round = (ms: number) => Number(ms.toFixed(1));
  return {
    requestsPerSecond: total / elapsed,
    requests: total,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    non2xx,
    errors,
    timeouts: 0,
  };
}

async function main(): Promise<void> {
  const rate = Number(process.env.BENCH_RATE ?? 0);
  if (rate > 0) {
    process.stdout.write(`${JSON.stringify(await openLoop(rate))}\n`);
    return;
  }
  let next = 0;
  const result = await autocannon({
    url: url.toString(),
    connections: Number(process.env.BENCH_CONNECTIONS ?? 16),
    duration: seconds,
    headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `/v1/inquiries/${ids[next++ % ids.length]}` }),
      },
    ],
  });
  process.stdout.write(
    `${JSON.stringify({
      requestsPerSecond: result.requests.average,
      requests: result.requests.total,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    })}\n`,
  );
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`api-load failed: ${String(error)}\n`);
    process.exit(1);
  },
);
