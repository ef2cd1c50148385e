/**
 * Calls `stop` once this process's parent has gone (it was re-parented). `npm start` runs the
 * stack under `sh -c`, which dies on a SIGTERM or SIGINT sent to npm alone without passing it
 * on: without this, a supervisor that signals npm would leave every service running.
 */
export function stopWhenOrphaned(stop: () => void, intervalMs = 500): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, intervalMs);
  timer.unref();
}
