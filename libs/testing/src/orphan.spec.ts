import { spawn } from 'node:child_process';

import { REPO_ROOT } from '@veil/platform/config';

import { expectEventually } from './eventually';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('stopWhenOrphaned', () => {
  it('stops a process whose parent shell died of a signal it did not pass on (npm start under sh -c)', async () => {
    // `; true` keeps sh from exec-ing node: sh stays the parent, as under npm.
    const child = `node -r @swc-node/register -e "require('./libs/testing/src/orphan').stopWhenOrphaned(() => process.exit(0), 100); console.log(process.pid); setInterval(() => {}, 1000)"; true`;
    const shell = spawn('sh', ['-c', child], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) =>
      shell.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))),
    );
    try {
      expect(alive(pid)).toBe(true);
      shell.kill('SIGTERM');
      await expectEventually(async () => expect(alive(pid)).toBe(false), { timeoutMs: 5_000 });
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL'); // leave nothing behind, even when it fails
    }
  });
});
