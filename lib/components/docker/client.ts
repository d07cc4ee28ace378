import Docker from 'dockerode';

/**
 * The one Docker Engine API client Kiln uses. `new Docker()` reads
 * DOCKER_HOST (unix://, tcp://, ssh://), DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH itself, so Kiln talks to the same engine as the `docker`
 * CLI would. Created on first use and shared by every build of the process.
 */

let client: Docker | undefined;

export function dockerClient(): Docker {
  client ??= new Docker();
  return client;
}

/** What a failed dockerode call carries besides its message. */
interface DockerodeError {
  readonly message?: string;
  readonly code?: string;
  readonly errno?: number;
  readonly address?: string;
  readonly statusCode?: number;
  readonly json?: unknown;
}

/** Where the client connects, for messages: the socket path or DOCKER_HOST. */
function engineAddress(e: DockerodeError): string {
  if (e.address) return e.address;
  return process.env.DOCKER_HOST || '/var/run/docker.sock';
}

/**
 * The engine's own message of an API error, without dockerode's
 * `(HTTP code 404) no such container - ` decoration; the plain message for
 * anything else.
 */
export function engineMessage(e: unknown): string {
  const err = (e ?? {}) as DockerodeError;
  const json = err.json as { message?: unknown } | Buffer | string | null | undefined;
  if (json && typeof json === 'object' && !Buffer.isBuffer(json) && typeof json.message === 'string') return json.message.trim();
  if (typeof json === 'string' && json.trim()) return json.trim();
  if (Buffer.isBuffer(json) && json.length) return json.toString('utf8').trim();
  const msg = String(err.message ?? e);
  const m = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(msg);
  return (m ? m[1] : msg).trim();
}

/** The HTTP status of an Engine API error, if it has one. */
export function statusOf(e: unknown): number | undefined {
  return (e as DockerodeError | undefined)?.statusCode;
}

/**
 * One line saying why a Docker call failed, in terms a user can act on:
 * the engine is not running, the socket is missing or not ours, an image is
 * not there, the disk is full. Falls back to the engine's own message.
 */
export function explainDockerError(e: unknown): string {
  const err = (e ?? {}) as DockerodeError;
  const where = engineAddress(err);
  switch (err.code) {
    case 'ECONNREFUSED':
      return `the Docker engine is not answering at ${where} (connection refused): start dockerd, or point DOCKER_HOST at a running engine`;
    case 'ENOENT':
      if (err.address || /connect/.test(String(err.message))) {
        return `the Docker socket ${where} does not exist: is the Docker engine installed and running? (or set DOCKER_HOST)`;
      }
      break;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on the Docker socket ${where}: run Kiln as root or as a member of the "docker" group`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return `the Docker engine at ${where} cannot be reached (${err.code})`;
    case 'ENOSPC':
      return 'the disk is full (no space left on device): free some space, e.g. with "docker system prune"';
    default:
      break;
  }
  const msg = engineMessage(e);
  if (/no space left on device/i.test(msg)) {
    return `the disk is full (no space left on device): free some space, e.g. with "docker system prune" — ${msg}`;
  }
  const noImage = /No such image: (\S+?):?(?:\s|$)/i.exec(msg);
  if (noImage) return `the image ${noImage[1].trim()} does not exist in the Docker engine: pull, build or import it first`;
  if (statusOf(e) === 404 && /No such container/i.test(msg)) return `the container is gone: ${msg}`;
  return msg;
}
