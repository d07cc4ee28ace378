import * as fs from 'fs';
import * as path from 'path';
import { build, docker, dockerBuilder, postProcessorError, removeLater, said, tarMembers, uniqueName, workdir } from '../../docker/harness';

describe('the docker-save post-processor', () => {
  it('saves the tagged image to a tar file and passes the image on, so it is listed twice as in Packer', async () => {
    const repo = uniqueName('saved');
    removeLater(`${repo}:v1`);
    const dir = workdir();
    const run = await build({
      'builders': [dockerBuilder({ commit: true })],
      'post-processors': [[{ type: 'docker-tag', repository: repo, tags: ['v1'] }, { type: 'docker-save', path: 'image.tar' }]],
    }, { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(run.outcome.artifacts.map((a) => a.describe())).toEqual([
      `Imported Docker image: ${run.outcome.artifacts[0].id}`,
      `Imported Docker image: ${repo}:v1 with tags ${repo}:v1`,
      `Imported Docker image: ${repo}:v1 with tags ${repo}:v1`,
    ]);
    expect(said(run)).toEqual(expect.arrayContaining([`Saving image: ${repo}:v1`, 'Saved to: image.tar']));
    const manifest = JSON.parse((await tarMembers(path.join(dir, 'image.tar'))).get('manifest.json')!.content);
    expect(manifest[0].RepoTags).toEqual([`${repo}:v1`]);
    expect(fs.readdirSync(dir)).toEqual(['image.tar']);
  });

  it('with keep_input_artifact false, removes the committed image once saved, as Packer does', async () => {
    const dir = workdir();
    const run = await build({
      'builders': [dockerBuilder({ commit: true })],
      'post-processors': [{ type: 'docker-save', path: 'out.tar', keep_input_artifact: false }],
    }, { dir });
    expect(run.outcome.error).toBeUndefined();
    const imageId = said(run).find((l) => l.startsWith('Image ID: '))!.slice('Image ID: '.length);
    await expect(docker.getImage(imageId).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await tarMembers(path.join(dir, 'out.tar'))).has('manifest.json')).toBe(true);
  });

  it('fails like Packer when path is empty', async () => {
    const run = await build({ 'builders': [dockerBuilder({ commit: true })], 'post-processors': [{ type: 'docker-save' }] });
    expect(postProcessorError(run)).toBe('Error creating output file: open : no such file or directory');
  });
});
