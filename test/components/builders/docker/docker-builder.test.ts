import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { splitReference } from '../../../../lib/components/docker/reference';
import { readProgress } from '../../../../lib/components/docker/streams';
import { RunJournal } from '../../../../lib/engine/journal';
import { BASE_IMAGE, build, docker, dockerBuilder, errorOf, fileInImage, journalItems, removeLater, said, tarMembers, uniqueName, workdir } from '../../docker/harness';
import { TestRegistry, registryAvailable, startRegistry } from '../../docker/registry';

const describeWithRegistry = registryAvailable() ? describe : describe.skip;

describe('the docker builder with commit', () => {
  it('commits an image with the provisioned files and the config Packer gives it', async () => {
    const run = await build({
      builders: [dockerBuilder({
        commit: true,
        author: 'Ann <ann@example.com>',
        message: 'built by kiln',
        changes: [
          'ENV FOO=bar BAZ="q x"',
          'LABEL team=web "with space"="a b"',
          'EXPOSE 80 443/udp',
          'WORKDIR /srv',
          'USER nobody',
          'CMD ["/bin/echo","hi"]',
          'VOLUME /data',
          'ONBUILD RUN echo onbuild',
        ],
      })],
      provisioners: [{ type: 'shell', inline: ['echo made-by-kiln > /made.txt'] }],
    });
    expect(run.outcome.error).toBeUndefined();
    const [artifact] = run.outcome.artifacts;
    expect(artifact.builderId).toBe('packer.post-processor.docker-import');
    expect(artifact.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(artifact.describe()).toBe(`Imported Docker image: ${artifact.id}`);
    expect(artifact.files).toEqual([]);

    const img = await docker.getImage(artifact.id).inspect();
    expect(img.Author).toBe('Ann <ann@example.com>');
    expect(img.Comment).toBe('built by kiln');
    expect(img.RepoTags ?? []).toEqual([]);
    // As with Packer, run_command's entrypoint and terminal settings stay in the image.
    expect(img.Config.Entrypoint).toEqual(['/bin/sh']);
    expect(img.Config.Tty).toBe(true);
    expect(img.Config.OpenStdin).toBe(true);
    expect(img.Config.Env).toEqual(['FOO=bar', 'BAZ=q x']);
    expect(img.Config.Labels).toEqual({ 'team': 'web', 'with space': 'a b' });
    expect(img.Config.ExposedPorts).toEqual({ '80/tcp': {}, '443/udp': {} });
    expect(img.Config.WorkingDir).toBe('/srv');
    expect(img.Config.User).toBe('nobody');
    expect(img.Config.Cmd).toEqual(['/bin/echo', 'hi']);
    expect(img.Config.Volumes).toEqual({ '/data': {} });
    expect(img.Config.OnBuild).toEqual(['RUN echo onbuild']);
    // Kiln's own container labels do not end up in the image.
    expect(img.ContainerConfig.Labels).toEqual({});
    expect(await fileInImage(artifact.id, '/made.txt')).toBe('made-by-kiln\n');

    expect(said(run)).toEqual(expect.arrayContaining([
      'Starting docker container...',
      `Run command: docker run -d -i -t --entrypoint=/bin/sh -- ${BASE_IMAGE}`,
      'Committing the container',
      `Image ID: ${artifact.id}`,
    ]));
    const containerId = said(run).find((l) => l.startsWith('Container ID: '))!.slice('Container ID: '.length);
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(said(run)).toContain(`Killing the container: ${containerId}`);
    expect(said(run).some((l) => l.startsWith('Using docker communicator to connect: '))).toBe(true);
  });

  it('commits a layer that only deletes files, with the image\'s layers and history intact', async () => {
    const run = await build({
      builders: [dockerBuilder({ commit: true, message: 'delete vi' })],
      provisioners: [{ type: 'shell', inline: ['rm /bin/vi'] }],
    });
    const id = run.outcome.artifacts[0].id;
    const img = await docker.getImage(id).inspect();
    const base = await docker.getImage(BASE_IMAGE).inspect();
    expect(img.RootFS.Layers).toEqual([...base.RootFS.Layers!, expect.stringMatching(/^sha256:/)]);
    const history = await docker.getImage(id).history() as { Comment: string }[];
    expect(history.map((h) => h.Comment)).toEqual(['delete vi', ...(await docker.getImage(BASE_IMAGE).history() as { Comment: string }[]).map((h) => h.Comment)]);
    await expect(fileInImage(id, '/bin/vi')).rejects.toThrow(/Could not find the file \/bin\/vi/);
  });

  it('refuses a change instruction the engine does not know, as Packer does, and leaves nothing behind', async () => {
    const run = await build({ builders: [dockerBuilder({ commit: true, changes: ['MAINTAINER someone'] })] });
    expect(errorOf(run)).toBe('Error committing container: maintainer is not a valid change command');
  });
});

describe('the docker builder with export_path', () => {
  it('exports the container filesystem to a tar file, creating its directory, and never leaves a partial file', async () => {
    const dir = workdir();
    const run = await build({
      builders: [dockerBuilder({ export_path: 'out/nested/image.tar' })],
      provisioners: [{ type: 'shell', inline: ['echo exported > /exported.txt'] }],
    }, { dir });
    expect(run.outcome.error).toBeUndefined();
    const [artifact] = run.outcome.artifacts;
    expect(artifact.builderId).toBe('packer.docker');
    expect(artifact.id).toBe('Container');
    expect(artifact.files).toEqual(['out/nested/image.tar']);
    expect(artifact.describe()).toBe('Exported Docker file: out/nested/image.tar');
    expect(said(run)).toContain('Exporting the container');
    const members = await tarMembers(path.join(dir, 'out/nested/image.tar'));
    expect(members.get('exported.txt')?.content).toBe('exported\n');
    expect(members.get('bin/busybox')?.type).toBe('file');
    expect(fs.readdirSync(path.join(dir, 'out/nested'))).toEqual(['image.tar']);
  });
});

describe('the docker builder with export_path and a run journal', () => {
  it('records the partial export in the journal while it is written, and drops it once in place', async () => {
    const runId = randomUUID();
    const journal = new RunJournal(runId);
    let during: { kind: string; path: string }[] = [];
    const dir = workdir();
    await build({ builders: [dockerBuilder({ export_path: 'image.tar' })] }, {
      dir,
      runId,
      journal,
      onLine: (l) => {
        if (l.endsWith('Exporting the container')) during = journalItems(runId);
      },
    });
    expect(during).toEqual([{ kind: 'file', path: expect.stringMatching(new RegExp(`^${dir}/image\\.tar\\.kiln-partial-[0-9a-f]+$`)) }]);
    expect(journalItems(runId)).toEqual([]);
    journal.close();
  });
});

describe('the docker builder with discard', () => {
  it('throws the container away and reports an export artifact with an empty path, as Packer does', async () => {
    const run = await build({ builders: [dockerBuilder({ discard: true })], provisioners: [{ type: 'shell', inline: ['true'] }] });
    const [artifact] = run.outcome.artifacts;
    expect(artifact.describe()).toBe('Exported Docker file: ');
    expect(artifact.files).toEqual(['']);
  });
});

describe('the docker builder\'s run_command and container options', () => {
  it('starts the container with the options of run_command, volumes, tmpfs and capabilities', async () => {
    const dir = workdir({ 'shared/hello.txt': 'from the host\n' });
    const run = await build({
      builders: [dockerBuilder({
        discard: true,
        run_command: ['-d', '-i', '-t', '-e', 'GREETING=hello world', '--env=OTHER=2', '-w', '/tmp', '--hostname', 'kiln-box',
          '-l', 'purpose=test', '--entrypoint', '/bin/sh', '--init', '--name', `kiln-test-${randomUUID().slice(0, 8)}`, '{{.Image}}'],
        volumes: { [path.join(dir, 'shared')]: '/mnt/shared' },
        tmpfs: ['/scratch:size=1m'],
        cap_drop: ['CHOWN'],
      })],
      provisioners: [{
        type: 'shell',
        inline: ['echo "$GREETING/$OTHER"', 'pwd', 'hostname', 'cat /mnt/shared/hello.txt', 'grep -c " /scratch tmpfs" /proc/mounts', 'echo "pid1=$(cat /proc/1/comm)"'],
      }],
    });
    expect(run.outcome.error).toBeUndefined();
    const out = said(run);
    expect(out).toEqual(expect.arrayContaining(['hello world/2', '/tmp', 'kiln-box', 'from the host', '1', 'pid1=docker-init']));
    expect(out.find((l) => l.startsWith('Run command: '))).toBe(`Run command: docker run --cap-drop CHOWN --tmpfs /scratch:size=1m -v ${path.join(dir, 'shared')}:/mnt/shared `
      + '-d -i -t -e GREETING=hello world --env=OTHER=2 -w /tmp --hostname kiln-box -l purpose=test --entrypoint /bin/sh --init '
      + `--name ${out.find((l) => l.startsWith('Run command: '))!.split('--name ')[1].split(' ')[0]} ${BASE_IMAGE}`);
  });

  it('labels the container with the run and the build while it runs', async () => {
    let labels: Record<string, string> | undefined;
    let probe: Promise<void> | undefined;
    const run = await build({
      builders: [dockerBuilder({ discard: true })],
      provisioners: [{ type: 'shell', inline: ['echo probe-now', 'sleep 1'] }],
    }, {
      onLine: (line) => {
        const m = /Container ID: (\w+)/.exec(line);
        if (m) probe = docker.getContainer(m[1]).inspect().then((c) => { labels = c.Config.Labels; });
      },
    });
    await probe;
    expect(labels).toEqual({ 'kiln.run': run.runId, 'kiln.build': 'docker', 'kiln.pid': String(process.pid), 'kiln.host': os.hostname() });
  });

  it('fails with a message naming a run_command option Kiln does not know', async () => {
    const run = await build({ builders: [dockerBuilder({ discard: true, run_command: ['-d', '--restart=always', '{{.Image}}'] })] });
    expect(errorOf(run)).toMatch(/^Error running container: run_command: Kiln does not support the docker run option "--restart"; it understands -d\/--detach/);
  });

  it('fails like Packer when pulling an image that no registry has', async () => {
    const run = await build({ builders: [{ type: 'docker', image: '127.0.0.1:1/kiln-test/nothing:latest', discard: true }] });
    expect(said(run)).toContain('Pulling Docker image: 127.0.0.1:1/kiln-test/nothing:latest');
    expect(errorOf(run)).toMatch(/^Error pulling Docker image: .*connection refused/);
  });

  it('fails clearly when the image does not exist locally and pulling is off', async () => {
    const run = await build({ builders: [dockerBuilder({ image: 'kiln-test/never-built:nope', discard: true })] });
    expect(errorOf(run)).toBe('Error running container: the image kiln-test/never-built:nope does not exist in the Docker engine: pull, build or import it first');
  });
});

describeWithRegistry('the docker builder pulling from a registry that needs a login', () => {
  let registry: TestRegistry;
  let image: string;
  beforeAll(async () => {
    registry = await startRegistry({ name: 'ci', password: 'secret' });
    image = `${registry.address}/${uniqueName('base')}:1`;
    const { repo, tag } = splitReference(image);
    await docker.getImage(BASE_IMAGE).tag({ repo, tag });
    const auth = { username: 'ci', password: 'secret', serveraddress: registry.address };
    await readProgress(await docker.getImage(image).push({ authconfig: auth } as object) as unknown as Readable, () => {});
    // Only the registry has it now: the build has to pull it.
    await docker.getImage(image).remove();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('logs in with login_username and login_password, pulls and builds', async () => {
    removeLater(image);
    const run = await build({
      builders: [{ type: 'docker', image, discard: true, login: true, login_username: 'ci', login_password: 'secret', login_server: registry.address }],
      provisioners: [{ type: 'shell', inline: ['echo pulled-and-running'] }],
    });
    expect(run.outcome.error).toBeUndefined();
    const out = said(run);
    expect(out.slice(0, 3)).toEqual([`Pulling Docker image: ${image}`, 'Logging in...', '1: Pulling from ' + image.split('/').slice(1).join('/').replace(/:1$/, '')]);
    expect(out).toEqual(expect.arrayContaining([`Status: Downloaded newer image for ${image}`, 'Logging out...', 'pulled-and-running']));
  });

  it('fails to pull without the login', async () => {
    const run = await build({ builders: [{ type: 'docker', image: `${registry.address}/${uniqueName('private')}:1`, discard: true }] });
    expect(errorOf(run)).toMatch(/^Error pulling Docker image: .*(no basic auth credentials|unauthorized)/);
  });
});

describe('the data the docker builder hands on', () => {
  it('gives provisioners the container id and Packer\'s connection values, and post-processors the image id', async () => {
    const run = await build({
      'builders': [dockerBuilder({ commit: true })],
      'provisioners': [{
        type: 'shell',
        inline: ['echo "id={{ build `ID` }} type={{ build `ConnType` }} host=[{{ build `Host` }}] port={{ build `Port` }} run={{ build `PackerRunUUID` }} http={{ build `PackerHTTPIP` }}"',
          'echo "sha=[{{ build `ImageSha256` }}]"'],
      }],
      'post-processors': [{ type: 'shell-local', inline: ['echo "image={{ build `ImageSha256` }} container={{ build `ID` }}"'] }],
    });
    expect(run.outcome.error).toBeUndefined();
    const containerId = said(run).find((l) => l.startsWith('Container ID: '))!.slice('Container ID: '.length);
    const image = run.outcome.artifacts[0].id;
    expect(said(run)).toEqual(expect.arrayContaining([
      `id=${containerId} type=docker host=[] port=0 run=${run.runId} http=ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER`,
      'sha=[<no value>]',
      `image=${image} container=${containerId}`,
    ]));
  });
});

describe('the docker builder with communicator "none"', () => {
  it('runs provisioners that need no connection, without connection data, as Packer does', async () => {
    const run = await build({
      builders: [dockerBuilder({ discard: true, communicator: 'none' })],
      provisioners: [{ type: 'shell-local', inline: ['echo "id={{ build `ID` }} host={{ build `Host` }}"'] }],
    });
    expect(run.outcome.error).toBeUndefined();
    const containerId = said(run).find((l) => l.startsWith('Container ID: '))!.slice('Container ID: '.length);
    expect(said(run)).toContain(`id=${containerId} host=<no value>`);
    expect(said(run).some((l) => l.startsWith('Using docker communicator'))).toBe(false);
  });
});

describe('the docker builder when something goes wrong', () => {
  it('removes the container when a provisioner fails', async () => {
    const run = await build({ builders: [dockerBuilder({ commit: true })], provisioners: [{ type: 'shell', inline: ['exit 3'] }] });
    expect(errorOf(run)).toBe('Script exited with non-zero exit status: 3.Allowed exit codes are: [0]');
    expect(said(run).some((l) => l.startsWith('Killing the container: '))).toBe(true);
  });

  it('stops within moments when interrupted, removing the container', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const run = await build({
      builders: [dockerBuilder({ commit: true })],
      provisioners: [{ type: 'shell', inline: ['echo long-step', 'sleep 60'] }],
    }, { signal: ac.signal, onLine: (l) => { if (l.endsWith('long-step')) ac.abort(); } });
    expect(run.outcome.cancelled).toBe(true);
    expect(run.outcome.artifacts).toEqual([]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('with -on-error=abort, leaves the container running as Packer does (kiln cleanup removes it)', async () => {
    const dir = workdir({ 'fail.sh': 'exit 1\n' });
    const run = await build({ builders: [dockerBuilder({ discard: true })], provisioners: [{ type: 'shell', script: 'fail.sh' }] }, {
      dir,
      onError: 'abort',
      keepContainers: true,
    });
    expect(run.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^==> docker: aborted: skipping cleanup of container [0-9a-f]{12}$/)]));
    const left = await docker.listContainers({ all: true, filters: { label: [`kiln.run=${run.runId}`] } });
    expect(left.length).toBe(1);
    await docker.getContainer(left[0].Id).remove({ force: true, v: true });
  });
});
