import { NullArtifact } from '../../../../lib/components/builders/null/runtime';
import { postProcessor } from '../../../../lib/components/post-processors/shell-local/runtime';
import { read, scratch, testEnvironment } from '../../runtime-env';

/* The shell-local post-processor, running real commands on this machine. */

describe('the shell-local post-processor', () => {
  test('hands its input on and forces keeping it', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    const input = new NullArtifact();
    const result = await postProcessor.postProcess(env, { inline: ['touch ran'] }, input);
    expect(result).toEqual({ artifact: input, keep: true, forceKeep: true });
    expect(read(dir, 'ran')).toBe('');
  });

  test('sees the artifact\'s generated data at run time', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    await postProcessor.postProcess(env, { inline: ['echo "{{.ID}} {{.Host}}" > data'] }, new NullArtifact());
    expect(read(dir, 'data')).toBe('Null <no value>\n');
  });

  test('runs a one-element execute_command (the old string form) with sh -c in front', async () => {
    const dir = scratch();
    const { env, lines } = testEnvironment({ cwd: dir, buildName: 'web' });
    await postProcessor.postProcess(env, { inline: ['true'], execute_command: ['echo "one element: {{.Script}}" > out'] }, new NullArtifact());
    const script = read(dir, 'out')!.replace(/^one element: /, '').trim();
    expect(lines).toEqual([`==> web: Running local shell script: ${script}`]);
  });

  test('fails the post-processor with the script\'s status', async () => {
    const dir = scratch();
    const { env } = testEnvironment({ cwd: dir });
    await expect(postProcessor.postProcess(env, { inline: ['exit 2'] }, new NullArtifact()))
      .rejects.toThrow('Script exited with non-zero exit status: 2.Allowed exit codes are: [0]');
  });
});
