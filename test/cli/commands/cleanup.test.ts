import * as fs from 'fs';
import * as path from 'path';
import { RECORD_GROUP, groupAlive, kiln, nullBuild, read, sandbox, start, waitFor } from '../kiln';

/*
 * `kiln cleanup` end to end, after a `kiln build` killed with SIGKILL (which
 * no handler can catch). Compile first (`npx tsc --build`); scripts/test.sh does.
 */

describe('kiln cleanup', () => {
  test('after a build is killed outright, removes the temporary directories its journal lists and says so', async () => {
    const box = sandbox({
      builders: [nullBuild],
      provisioners: [{ type: 'shell-local', inline: [RECORD_GROUP, 'sleep 30'] }],
    });
    const { child, done } = start(box, ['build', 'template.json']);
    let pgid = 0;
    try {
      await waitFor(() => Boolean(read(box.dir, 'pgid')?.endsWith('\n')));
      pgid = Number(read(box.dir, 'pgid'));
      const runs = path.join(box.state, 'runs');
      const [journalName] = fs.readdirSync(runs);
      const journal = JSON.parse(fs.readFileSync(path.join(runs, journalName), 'utf8')) as { runId: string; items: { kind: string; path: string }[] };
      const dirs = journal.items.filter((i) => i.kind === 'dir').map((i) => i.path);
      expect(dirs.length).toBeGreaterThan(0);
      expect(dirs.every((d) => d.startsWith(box.tmp) && fs.existsSync(d))).toBe(true);

      child.kill('SIGKILL');
      await done;
      // The killed run could not clean up: its directories and journal are still there.
      expect(dirs.every((d) => fs.existsSync(d))).toBe(true);

      const cleanup = await kiln(box, ['cleanup']);
      expect(cleanup.code).toBe(0);
      expect(cleanup.stdout.trim().split('\n')).toEqual(dirs.map((d) => `removed temporary directory ${d} (run ${journal.runId})`));
      expect(dirs.some((d) => fs.existsSync(d))).toBe(false);
      expect(fs.readdirSync(runs)).toEqual([]);

      const again = await kiln(box, ['cleanup']);
      expect(again.stdout).toBe('nothing to clean up\n');
    } finally {
      // The script outlives a SIGKILLed kiln (nothing can stop it then); end it here.
      if (pgid && groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});
