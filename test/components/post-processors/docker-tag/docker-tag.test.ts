import { build, docker, dockerBuilder, postProcessorError, removeLater, said, uniqueName } from '../../docker/harness';

describe('the docker-tag post-processor', () => {
  it('tags the committed image with each tag (tags, then the deprecated tag) and always keeps it', async () => {
    const repo = uniqueName('tagged');
    ['a', 'b', 'c'].forEach((t) => removeLater(`${repo}:${t}`));
    const run = await build({
      'builders': [dockerBuilder({ commit: true })],
      'post-processors': [{ type: 'docker-tag', repository: repo, tags: ['a', 'b'], tag: 'c', keep_input_artifact: false }],
    });
    expect(run.outcome.error).toBeUndefined();
    const [commit, tagged] = run.outcome.artifacts;
    expect(run.outcome.artifacts).toHaveLength(2);
    expect(commit.builderId).toBe('packer.post-processor.docker-import');
    expect(tagged.builderId).toBe('packer.post-processor.docker-tag');
    expect(tagged.id).toBe(`${repo}:c`);
    expect(tagged.describe()).toBe(`Imported Docker image: ${repo}:c with tags ${repo}:a ${repo}:b ${repo}:c`);
    expect((await docker.getImage(commit.id).inspect()).RepoTags.sort()).toEqual([`${repo}:a`, `${repo}:b`, `${repo}:c`]);
    expect(said(run)).toEqual(expect.arrayContaining([
      'Running post-processor: docker-tag',
      'Deprecation warning: "tag" option has been replaced with "tags". In future versions of Packer, this configuration may not work. Please call `packer fix` on your template to update.',
      `Tagging image: ${commit.id}`,
      `Repository: ${repo}:a`,
    ]));
  });

  it('tags the repository alone (that is, "latest") when no tag is given', async () => {
    const repo = uniqueName('untagged');
    removeLater(`${repo}:latest`);
    const run = await build({ 'builders': [dockerBuilder({ commit: true })], 'post-processors': [{ type: 'docker-tag', repository: repo }] });
    const tagged = run.outcome.artifacts[1];
    expect(tagged.id).toBe(repo);
    expect(tagged.describe()).toBe(`Imported Docker image: ${repo}`);
    expect((await docker.getImage(`${repo}:latest`).inspect()).Id).toBe(run.outcome.artifacts[0].id);
  });

  it('refuses an exported container, with Packer\'s message', async () => {
    const run = await build({ 'builders': [dockerBuilder({ discard: true })], 'post-processors': [{ type: 'docker-tag', repository: uniqueName('no') }] });
    expect(postProcessorError(run)).toBe('Unknown artifact type: packer.docker\nCan only tag from Docker builder artifacts.');
  });

  it('fails like the docker CLI when the repository is empty', async () => {
    const run = await build({ 'builders': [dockerBuilder({ commit: true })], 'post-processors': [{ type: 'docker-tag', repository: '' }] });
    expect(postProcessorError(run)).toBe('Error tagging image: Error parsing reference: "" is not a valid repository/tag: invalid reference format');
  });
});
