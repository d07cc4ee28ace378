import * as fs from 'fs';
import { build, docker, dockerBuilder, postProcessorError, fileInImage, removeLater, said, uniqueName, workdir } from '../../docker/harness';

describe('the docker-import post-processor', () => {
  it('imports an exported container as an image with the given changes, and deletes the export as Packer does', async () => {
    const repo = uniqueName('imported');
    removeLater(`${repo}:1.0`);
    const dir = workdir();
    const run = await build({
      'builders': [dockerBuilder({ export_path: 'rootfs.tar' })],
      'provisioners': [{ type: 'shell', inline: ['echo imported > /marker'] }],
      'post-processors': [{ type: 'docker-import', repository: repo, tag: '1.0', changes: ['ENV MODE=imported', 'CMD ["/bin/sh"]', 'WORKDIR /srv'] }],
    }, { dir });
    expect(run.outcome.error).toBeUndefined();
    expect(run.outcome.artifacts).toHaveLength(1);
    const [imported] = run.outcome.artifacts;
    expect(imported.builderId).toBe('packer.post-processor.docker-import');
    expect(imported.id).toBe(`${repo}:1.0`);
    expect(imported.describe()).toBe(`Imported Docker image: ${repo}:1.0`);
    expect(said(run)).toEqual(expect.arrayContaining(['Importing image: Container', `Repository: ${repo}:1.0`]));
    expect(said(run).find((l) => l.startsWith('Imported ID: '))).toMatch(/^Imported ID: sha256:[0-9a-f]{64}$/);
    const img = await docker.getImage(imported.id).inspect();
    expect(img.Config.Env).toEqual(['MODE=imported']);
    expect(img.Config.Cmd).toEqual(['/bin/sh']);
    expect(img.Config.WorkingDir).toBe('/srv');
    expect(await fileInImage(imported.id, '/marker')).toBe('imported\n');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a committed image, with Packer\'s message', async () => {
    const run = await build({ 'builders': [dockerBuilder({ commit: true })], 'post-processors': [{ type: 'docker-import', repository: uniqueName('no') }] });
    expect(postProcessorError(run)).toBe('Unknown artifact type: packer.post-processor.docker-import\n'
      + 'Can only import from Docker builder and Artifice post-processor artifacts. If you are getting this error after having run the docker builder, '
      + 'it may be because you set commit: true in your Docker builder, so the image is already imported. ');
  });
});
