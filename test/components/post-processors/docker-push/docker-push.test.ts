import { build, dockerBuilder, postProcessorError, removeLater, said, uniqueName } from '../../docker/harness';
import { TestRegistry, registryAvailable, startRegistry } from '../../docker/registry';

const describeWithRegistry = registryAvailable() ? describe : describe.skip;

/** A committed image tagged into `repo` with `tags`, then pushed with `push` options. */
function pushTemplate(repo: string, tags: string[], push: Record<string, unknown> = {}) {
  for (const t of tags) removeLater(`${repo}:${t}`);
  return {
    'builders': [dockerBuilder({ commit: true })],
    'post-processors': [[{ type: 'docker-tag', repository: repo, tags }, { type: 'docker-push', ...push }]],
  };
}

describeWithRegistry('the docker-push post-processor, to a registry without authentication', () => {
  let registry: TestRegistry;
  beforeAll(async () => { registry = await startRegistry(); });
  afterAll(async () => { await registry?.stop(); });

  it('pushes the image and every tag docker-tag gave it', async () => {
    const name = uniqueName('pushed');
    const repo = `${registry.address}/${name}`;
    const run = await build(pushTemplate(repo, ['1.0', 'latest']));
    expect(run.outcome.error).toBeUndefined();
    expect(await registry.tags(name)).toEqual(['1.0', 'latest']);
    const pushed = run.outcome.artifacts[run.outcome.artifacts.length - 1];
    expect(pushed.builderId).toBe('packer.post-processor.docker-import');
    expect(pushed.id).toBe(`${repo}:latest`);
    expect(pushed.describe()).toBe(`Imported Docker image: ${repo}:latest with tags ${repo}:1.0 ${repo}:latest`);
    // The last tag is pushed twice, as in Packer: once as the artifact, once as a tag.
    expect(said(run).filter((l) => l.startsWith('Pushing: '))).toEqual([`Pushing: ${repo}:latest`, `Pushing: ${repo}:1.0`, `Pushing: ${repo}:latest`]);
    expect(said(run).some((l) => /^latest: digest: sha256:[0-9a-f]{64} size: \d+$/.test(l))).toBe(true);
  });

  it('fails the step with the registry\'s error, which arrives inside the progress stream', async () => {
    const name = uniqueName('refused');
    // A registry that is not listening: the engine reports it in the stream.
    const run = await build(pushTemplate(`127.0.0.1:1/${name}`, ['x']));
    expect(postProcessorError(run)).toMatch(new RegExp(`^Error pushing 127\\.0\\.0\\.1:1/${name.replace('/', '\\/')}:x: .*connection refused`));
  });
});

describeWithRegistry('the docker-push post-processor, to a registry with basic authentication', () => {
  let registry: TestRegistry;
  beforeAll(async () => { registry = await startRegistry({ name: 'ci', password: 'secret' }); });
  afterAll(async () => { await registry?.stop(); });

  it('logs in with login_username and login_password and pushes', async () => {
    const name = uniqueName('private');
    const repo = `${registry.address}/${name}`;
    const run = await build(pushTemplate(repo, ['v1'], { login: true, login_username: 'ci', login_password: 'secret', login_server: registry.address }));
    expect(run.outcome.error).toBeUndefined();
    expect(said(run)).toEqual(expect.arrayContaining(['Logging in...', `Pushing: ${repo}:v1`, 'Logging out...']));
    expect(await registry.tags(name)).toEqual(['v1']);
  });

  it('is refused without credentials', async () => {
    const name = uniqueName('anonymous');
    const run = await build(pushTemplate(`${registry.address}/${name}`, ['v1']));
    expect(postProcessorError(run)).toMatch(/^Error pushing .*: no basic auth credentials$/);
    expect(await registry.tags(name)).toEqual([]);
  });

  it('fails before pushing when the credentials are wrong', async () => {
    const run = await build(pushTemplate(`${registry.address}/${uniqueName('wrong')}`, ['v1'], { login: true, login_username: 'ci', login_password: 'nope', login_server: registry.address }));
    expect(postProcessorError(run)).toMatch(/^Error logging in to Docker: /);
    expect(said(run).some((l) => l.startsWith('Pushing: '))).toBe(false);
  });
});
