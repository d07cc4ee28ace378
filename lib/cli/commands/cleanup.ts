import * as fs from 'fs';
import * as os from 'os';
import { abandonedRuns, journalDir, processAlive } from '../../engine/journal';
import { CommandContext } from '../main';

/**
 * Removes what builds that died without cleaning up left behind: containers
 * labelled `kiln.run=<run id>` whose run is no longer alive, and the temporary
 * directories and partial files listed in their journals.
 */
export async function run({ output }: CommandContext): Promise<number> {
  const dead = abandonedRuns();
  const live = new Set<string>();
  try {
    for (const name of fs.readdirSync(journalDir())) {
      if (!name.endsWith('.json')) continue;
      try {
        const r = JSON.parse(fs.readFileSync(`${journalDir()}/${name}`, 'utf8'));
        if (processAlive(r.pid)) live.add(r.runId);
      } catch {
        // Being written: treat as live by leaving it out of `dead`.
      }
    }
  } catch {
    // No journals yet.
  }

  let removed = 0;
  let failures = 0;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { dockerClient, explainDockerError } = require('../../components/docker/client') as typeof import('../../components/docker/client');
  const docker = dockerClient();
  try {
    const containers = await docker.listContainers({ all: true, filters: { label: ['kiln.run'] } });
    for (const c of containers) {
      const runId = c.Labels['kiln.run'];
      if (live.has(runId)) continue;
      // A run still going on this machine (whatever its state directory) is not ours to clean.
      const pid = Number(c.Labels['kiln.pid']);
      if (pid && c.Labels['kiln.host'] === os.hostname() && processAlive(pid)) continue;
      try {
        await docker.getContainer(c.Id).remove({ force: true, v: true });
        output.out(`removed container ${c.Id.slice(0, 12)} (run ${runId}, build ${c.Labels['kiln.build'] ?? '?'})`);
        removed++;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) continue;
        output.err(`could not remove container ${c.Id.slice(0, 12)}: ${(e as Error).message}`);
        failures++;
      }
    }
  } catch (e) {
    // No engine to talk to: no container can be removed now, but the files
    // and directories of the journals below still can.
    const code = (e as NodeJS.ErrnoException).code;
    output.err(`kiln: cannot list containers: ${explainDockerError(e)}`);
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') failures++;
  }

  for (const { file, record } of dead) {
    let left = 0;
    for (const item of record.items) {
      try {
        fs.rmSync(item.path, { recursive: true, force: true });
        output.out(`removed ${item.kind === 'dir' ? 'temporary directory' : 'partial file'} ${item.path} (run ${record.runId})`);
        removed++;
      } catch (e) {
        output.err(`could not remove ${item.path}: ${(e as Error).message}`);
        failures++;
        left++;
      }
    }
    // A journal goes once everything it lists is gone, whatever happened to other runs.
    if (!left) fs.rmSync(file, { force: true });
  }
  if (!removed && !failures) output.out('nothing to clean up');
  return failures ? 1 : 0;
}
