import * as path from 'path';
import type Docker from 'dockerode';

/**
 * The one Docker Engine API client Kiln uses. `new Docker()` reads
 * DOCKER_HOST (unix://, tcp://, ssh://), DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH itself, so Kiln talks to the same engine as the `docker`
 * CLI would. Created on first use and shared by every build of the process.
 */

let client: Docker | undefined;

export function dockerClient(): Docker {
  client ??= new (loadDockerode())();
  return client;
}

/**
 * Loads dockerode without the two modules it loads up front for features
 * Kiln rarely or never uses: ssh2 (only for `ssh://` engines) through
 * docker-modem's `lib/ssh.js`, and gRPC with protobuf (only for BuildKit
 * sessions) through dockerode's `lib/session.js`. Together they take 200 to
 * 500 ms to load, more than a whole small build spends in the engine. Each
 * module exports a single function; it is replaced by a stand-in that loads
 * the real module the first time it is called, so `ssh://` hosts work as
 * before. If dockerode's layout is not the one expected, it loads as usual.
 */
function loadDockerode(): typeof Docker {
  try {
    const dockerodeDir = path.dirname(require.resolve('dockerode/package.json'));
    const modemDir = path.dirname(require.resolve('docker-modem/package.json', { paths: [dockerodeDir] }));
    loadOnFirstCall(path.join(modemDir, 'lib', 'ssh.js'));
    loadOnFirstCall(path.join(dockerodeDir, 'lib', 'session.js'));
  } catch {
    // Not the layout we know: load everything up front.
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('dockerode') as typeof Docker;
}

/** Puts a stand-in for the module `file` (which must export one function) in the require cache. */
function loadOnFirstCall(file: string): void {
  if (require.cache[file]) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Module } = require('module') as { Module: new (id: string) => NodeJS.Module };
  let real: ((...args: unknown[]) => unknown) | undefined;
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      if (require.cache[file] === stub) delete require.cache[file];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      real = require(file) as (...a: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  require.cache[file] = stub;
}

/** What a failed dockerode call carries besides its message. */
interface DockerodeError {
  readonly message?: string;
  readonly code?: string;
  readonly errno?: number;
  readonly address?: string;
  readonly syscall?: string;
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

/**
 * True when a call failed because the engine could not be reached at all
 * (nothing listening, no socket, no route), as opposed to the engine
 * answering with an error. A connection cut half way (ECONNRESET, EPIPE) is
 * not enough to tell: ask `unreachableCause` then.
 */
export function isEngineUnreachable(e: unknown): boolean {
  if (e instanceof EngineUnreachableError) return true;
  const err = (e ?? {}) as DockerodeError;
  if (statusOf(e) !== undefined) return false;
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return true;
    case 'ENOENT':
      return Boolean(err.address) || err.syscall === 'connect';
    default:
      return false;
  }
}

/** The part of dockerode's modem (`docker.modem`, `container.modem`) that a ping needs. */
interface Modem {
  dial(options: Record<string, unknown>, callback: (err: unknown, data: unknown) => void): void;
}

/**
 * Pings the engine behind `modem`: resolves to the error that shows it cannot
 * be reached, or undefined when it answers (even with an error status).
 */
export function unreachableCause(modem: Modem = dockerClient().modem as unknown as Modem): Promise<unknown> {
  return new Promise((resolve) => {
    modem.dial({ path: '/_ping', method: 'GET', statusCodes: { 200: true, 500: 'server error' } }, (err) => {
      resolve(err && isEngineUnreachable(err) ? err : undefined);
    });
  });
}

/**
 * The Docker engine went away (or was never there): its message is the
 * one-line cause from `explainDockerError`. It is `unrecoverable`, so retry
 * loops (start_retry_timeout, max_retries) give up at once instead of trying
 * an engine that is not there for minutes.
 */
export class EngineUnreachableError extends Error {
  public readonly unrecoverable = true;

  constructor(cause: unknown) {
    super(explainDockerError(cause), { cause });
    this.name = 'EngineUnreachableError';
  }
}
