import { provisioner } from '../../../../lib/components/provisioners/breakpoint/runtime';
import { scratch, testEnvironment } from '../../runtime-env';

/* The breakpoint provisioner, with and without a terminal to wait on. */

describe('the breakpoint provisioner', () => {
  test('when disabled, says so with its note and carries on', async () => {
    const { env, lines } = testEnvironment({ cwd: scratch(), buildName: 'web' });
    await provisioner.provision(env, { disable: true, note: 'after apt' }, undefined, {});
    await provisioner.provision(env, { disable: true }, undefined, {});
    expect(lines).toEqual([
      '==> web: Breakpoint provisioner with note "after apt" disabled; continuing...',
      '==> web: Breakpoint provisioner disabled; continuing...',
    ]);
  });

  test('without a terminal, says the breakpoint is skipped and carries on (Packer 1.6.6 fails the build instead)', async () => {
    const { env, lines } = testEnvironment({ cwd: scratch(), buildName: 'web' });
    await provisioner.provision(env, { note: 'look here' }, undefined, {});
    expect(lines).toEqual([
      '==> web: Pausing at breakpoint provisioner with note "look here".',
      '==> web: No terminal to wait on: skipping the breakpoint and continuing...',
    ]);
  });

  test('on a terminal, waits for Enter before carrying on', async () => {
    let answer: (line: string) => void = () => undefined;
    const questions: string[] = [];
    const ask = (q: string) => {
      questions.push(q);
      return new Promise<string>((resolve) => { answer = resolve; });
    };
    const { env, lines } = testEnvironment({ cwd: scratch(), buildName: 'web', ask });
    let done = false;
    const waiting = provisioner.provision(env, {}, undefined, {}).then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    expect(questions).toEqual(['==> web: Press enter to continue.']);
    answer('');
    await waiting;
    expect(lines).toEqual(['==> web: Pausing at breakpoint provisioner.']);
  });

  test('stops waiting when the build is cancelled', async () => {
    const controller = new AbortController();
    const ask = (_q: string, signal?: AbortSignal) => new Promise<string>((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new Error('question cancelled')));
    });
    const { env } = testEnvironment({ cwd: scratch(), ask, signal: controller.signal });
    const waiting = provisioner.provision(env, {}, undefined, {});
    controller.abort(new Error('build cancelled by user'));
    await expect(waiting).rejects.toThrow('build cancelled by user');
  });
});
