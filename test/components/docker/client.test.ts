import Docker from 'dockerode';
import { docker } from './harness';
import { dockerClient, engineMessage, explainDockerError } from '../../../lib/components/docker/client';

describe('the Docker client', () => {
  it('is created once and shared', () => {
    expect(dockerClient()).toBe(dockerClient());
  });
});

describe('explaining Docker errors in one line', () => {
  it('says the socket is missing when nothing is there', async () => {
    const e = await new Docker({ socketPath: '/tmp/kiln-no-such-docker.sock' }).ping().catch((x: unknown) => x);
    expect(explainDockerError(e)).toBe('the Docker socket /tmp/kiln-no-such-docker.sock does not exist: is the Docker engine installed and running? (or set DOCKER_HOST)');
  });

  it('says the engine is not answering when the connection is refused', async () => {
    const e = await new Docker({ host: '127.0.0.1', port: 1, protocol: 'http' }).ping().catch((x: unknown) => x);
    expect(explainDockerError(e)).toMatch(/^the Docker engine is not answering at .*\(connection refused\): start dockerd, or point DOCKER_HOST at a running engine$/);
  });

  it('names an image that does not exist', async () => {
    const e = await docker.getImage('kiln-test/not-there:never').inspect().catch((x: unknown) => x);
    expect(explainDockerError(e)).toBe('the image kiln-test/not-there:never does not exist in the Docker engine: pull, build or import it first');
  });

  it('says the disk is full', () => {
    expect(explainDockerError(Object.assign(new Error('write /x: no space left on device'), { code: 'ENOSPC' })))
      .toBe('the disk is full (no space left on device): free some space, e.g. with "docker system prune"');
    const fromEngine = Object.assign(new Error('(HTTP code 500) server error - write /var/lib/docker/x: no space left on device '), { statusCode: 500, json: { message: 'write /var/lib/docker/x: no space left on device' } });
    expect(explainDockerError(fromEngine)).toMatch(/^the disk is full \(no space left on device\).* — write \/var\/lib\/docker\/x: no space left on device$/);
  });

  it('otherwise gives the engine\'s own message without dockerode\'s decoration', () => {
    expect(engineMessage(Object.assign(new Error('(HTTP code 409) unexpected - Conflict. The name is in use '), { statusCode: 409 }))).toBe('Conflict. The name is in use');
  });
});
