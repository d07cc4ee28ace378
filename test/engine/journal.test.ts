import { spawn } from 'child_process';
import { processAlive } from '../../lib/engine/journal';

describe('processAlive (whether a run that left containers or files is still going)', () => {
  test('a running process is alive; one that exited and was reaped is not', async () => {
    const child = spawn('sleep', ['30']);
    try {
      expect(processAlive(child.pid!)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.on('exit', resolve));
    expect(processAlive(child.pid!)).toBe(false);
  });

  test('a killed process its parent has not reaped yet (a zombie) is not alive', async () => {
    // sh starts a short-lived child, prints its pid and becomes `sleep`, which never reaps it.
    const parent = spawn('/bin/sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      // Wait until the child has exited; it then stays in the process table as a zombie.
      const deadline = Date.now() + 5000;
      while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(processAlive(pid)).toBe(false);
      // It is still in the table: the signal check alone would call it alive.
      expect(() => process.kill(pid, 0)).not.toThrow();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
