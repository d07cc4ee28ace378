import * as net from 'net';
import type { Client, AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, KeyboardInteractiveCallback, ParsedKey, Prompt } from 'ssh2';
import { abortError, sleep } from '../../../engine/build';
import type { BuildUi } from '../../../engine/types';

/**
 * ssh2 is loaded on first use: it and its crypto take ~35 ms to load, which every
 * command would otherwise pay, SSH or not.
 */
let ssh2Module: typeof import('ssh2') | undefined;
function ssh2(): typeof import('ssh2') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ssh2Module ??= require('ssh2') as typeof import('ssh2');
  return ssh2Module;
}

/**
 * Opening SSH connections the way Packer's ssh communicator does: TCP, then
 * the handshake and authentication, directly or through a bastion (a
 * channel forwarded by a first connection), host keys not checked; and
 * Packer's wait loop that retries until `ssh_timeout`, counting only
 * authentication failures against `ssh_handshake_attempts`.
 */

/** Credentials for one hop. Secrets live only here: they never go into a message. */
export interface SshCredentials {
  readonly username: string;
  readonly password?: string;
  /** A parsed private key (checked when the settings were made). */
  readonly privateKey?: ParsedKey;
  /** The ssh-agent socket to ask for keys. */
  readonly agent?: string;
}

export interface SshHop extends SshCredentials {
  readonly host: string;
  readonly port: number;
}

export interface SshSettings extends SshHop {
  /** Jump host: the connection to the machine is a channel forwarded by this one. */
  readonly bastion?: SshHop;
  /** `ssh_pty`: commands run with an `xterm` terminal of 40 rows and 80 columns, echo off. */
  readonly pty: boolean;
  /** `ssh_keep_alive_interval` in ms; 0 or less disables keep-alives. */
  readonly keepAliveMs: number;
  /** `ssh_read_write_timeout` in ms: a connection silent this long is dropped; 0 never. */
  readonly readWriteTimeoutMs: number;
  /** Forward the local ssh-agent (`SSH_AUTH_SOCK`) to the machine. */
  readonly agentForwarding?: string;
  readonly fileTransfer: 'scp' | 'sftp';
  /** Limit on one handshake (TCP connect included); Packer's is one minute. */
  readonly handshakeTimeoutMs: number;
  readonly ciphers?: readonly string[];
  readonly kex?: readonly string[];
}

/** A failure that retrying cannot fix (bad settings): the wait loop stops at once. */
export class SshSettingsError extends Error {}

/** The server refused every authentication method offered. */
export class SshAuthError extends Error {}

/** An open connection; `alive` turns false for good once it drops. */
export interface SshConnection {
  readonly client: Client;
  readonly alive: boolean;
  /** Closes it (and the bastion connection under it). */
  close(): void;
  /** Runs `fn` once the connection has dropped, whatever the reason. */
  onClose(fn: () => void): void;
}

/** What `ssh2` calls the errors it emits, plus the level it sets. */
type LeveledError = Error & { level?: string };

/** Opens a TCP connection, failing after `timeoutMs` or when `signal` aborts. */
function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const sock = net.connect({ host, port });
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.off('connect', onConnect);
      sock.off('error', onError);
      if (err) {
        sock.destroy();
        reject(err);
      } else {
        resolve(sock);
      }
    };
    const onConnect = () => done();
    const onError = (e: Error) => done(new Error(`dial tcp ${host}:${port}: ${(e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connect: connection refused' : e.message}`));
    const onAbort = () => done(abortError(signal));
    const timer = setTimeout(() => done(new Error(`dial tcp ${host}:${port}: i/o timeout`)), timeoutMs);
    sock.once('connect', onConnect);
    sock.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Packer's order: agent keys, then the key file, then the password as password and as keyboard-interactive answers. */
function authMethods(c: SshCredentials): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (c.agent) methods.push({ type: 'agent', username: c.username, agent: c.agent });
  if (c.privateKey) methods.push({ type: 'publickey', username: c.username, key: c.privateKey });
  if (c.password !== undefined && c.password !== '') {
    const password = c.password;
    methods.push({ type: 'password', username: c.username, password });
    methods.push({
      type: 'keyboard-interactive',
      username: c.username,
      // Every question is answered with the password, as Packer does.
      prompt: (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback) => {
        finish(prompts.map(() => password));
      },
    });
  }
  return methods;
}

/** The method name as the SSH protocol (and Go's error message) spells it. */
const wireName = (t: AuthenticationType): string => (t === 'agent' ? 'publickey' : t);

/**
 * The SSH handshake and authentication over `sock` (a TCP socket or a
 * forwarded channel). Resolves to the ready client.
 */
function handshake(sock: net.Socket | ClientChannel, hop: SshHop, settings: SshSettings, signal: AbortSignal): Promise<Client> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const client = new (ssh2().Client)();
    const attempted: string[] = [];
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        client.destroy();
        sock.destroy();
        reject(err);
      } else {
        resolve(client);
      }
    };
    const onAbort = () => done(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });

    // Go's client tries "none" first, then each configured method the server still offers.
    const queue = authMethods(hop);
    let first = true;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
      if (first) {
        first = false;
        attempted.push('none');
        return next({ type: 'none', username: hop.username });
      }
      while (queue.length) {
        const m = queue.shift()!;
        if (methodsLeft && !methodsLeft.includes(wireName(m.type) as AuthenticationType)) continue;
        if (!attempted.includes(wireName(m.type))) attempted.push(wireName(m.type));
        return next(m);
      }
      return next(false);
    };

    client.on('ready', () => done());
    client.on('error', (e: LeveledError) => {
      if (e.level === 'client-authentication') {
        done(new SshAuthError(`ssh: handshake failed: ssh: unable to authenticate, attempted methods [${attempted.join(' ')}], no supported methods remain`));
      } else if (e.level === 'client-timeout') {
        done(new Error('Timeout during SSH handshake'));
      } else {
        done(new Error(`ssh: handshake failed: ${e.message}`));
      }
    });
    client.on('close', () => done(new Error('ssh: handshake failed: the connection closed')));

    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: hop.username,
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
      readyTimeout: settings.handshakeTimeoutMs,
      keepaliveInterval: settings.keepAliveMs > 0 ? settings.keepAliveMs : 0,
      keepaliveCountMax: 3,
    };
    if (settings.agentForwarding && hop === settings) {
      config.agent = settings.agentForwarding;
      config.agentForward = true;
    }
    if (settings.ciphers?.length || settings.kex?.length) {
      config.algorithms = {};
      if (settings.ciphers?.length) config.algorithms.cipher = [...settings.ciphers] as never;
      if (settings.kex?.length) config.algorithms.kex = [...settings.kex] as never;
    }
    try {
      client.connect(config);
    } catch (e) {
      // ssh2 checks the algorithm names synchronously.
      done(new SshSettingsError(`invalid SSH settings: ${(e as Error).message}`));
    }
  });
}

/** Asks `via` to open a TCP channel to `host:port` from its side. */
function forward(via: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      via.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
        if (err) reject(new Error(`the bastion could not connect to ${host}:${port}: ${err.message}`));
        else resolve(channel);
      });
    } catch (e) {
      reject(new Error(`the bastion connection closed: ${(e as Error).message}`));
    }
  });
}

/** Drops a socket that stays silent longer than `ms` (Packer's `ssh_read_write_timeout`). */
function silenceLimit(sock: net.Socket, ms: number): void {
  if (ms <= 0) return;
  sock.setTimeout(ms, () => sock.destroy(new Error(`i/o timeout: nothing received or sent for ${ms} ms`)));
}

function track(client: Client, extra?: () => void): SshConnection {
  let alive = true;
  const hooks: (() => void)[] = [];
  const dropped = () => {
    if (!alive) return;
    alive = false;
    extra?.();
    for (const h of hooks.splice(0)) h();
  };
  // Errors after the handshake surface through the operations that were running; the
  // listener stays so that an emitted error never goes unhandled.
  client.on('error', () => dropped());
  client.on('close', dropped);
  client.on('end', dropped);
  return {
    client,
    get alive() {
      return alive;
    },
    close() {
      client.end();
      client.destroy();
      dropped();
    },
    onClose(fn) {
      if (alive) hooks.push(fn);
      else fn();
    },
  };
}

/**
 * One connection attempt: TCP (or a channel through the bastion), then the
 * handshake. The bastion connection lives as long as the one it carries.
 */
export async function dial(settings: SshSettings, signal: AbortSignal): Promise<SshConnection> {
  if (settings.bastion) {
    const b = settings.bastion;
    const bastionSock = await tcpConnect(b.host, b.port, settings.handshakeTimeoutMs, signal);
    silenceLimit(bastionSock, settings.readWriteTimeoutMs);
    let bastion: Client;
    try {
      bastion = await handshake(bastionSock, b, settings, signal);
    } catch (e) {
      if (e instanceof SshAuthError) throw new SshAuthError(`bastion ${b.host}:${b.port}: ${e.message}`);
      throw new Error(`bastion ${b.host}:${b.port}: ${(e as Error).message}`);
    }
    const bastionConn = track(bastion);
    try {
      const channel = await forward(bastion, settings.host, settings.port);
      const client = await handshake(channel, settings, settings, signal);
      const conn = track(client, () => bastionConn.close());
      bastionConn.onClose(() => conn.close());
      return conn;
    } catch (e) {
      bastionConn.close();
      throw e;
    }
  }
  const sock = await tcpConnect(settings.host, settings.port, settings.handshakeTimeoutMs, signal);
  silenceLimit(sock, settings.readWriteTimeoutMs);
  sock.setNoDelay(true);
  return track(await handshake(sock, settings, settings, signal));
}

export interface WaitOptions {
  /** `ssh_timeout`: the whole wait, in ms. */
  readonly timeoutMs: number;
  /** `ssh_handshake_attempts`: authentication failures allowed. */
  readonly handshakeAttempts: number;
  readonly ui: BuildUi;
  readonly signal: AbortSignal;
  /** Pause after a failed connection (1 s) and after a failed authentication (2 s). */
  readonly retryDelayMs?: number;
  readonly authRetryDelayMs?: number;
}

/** Packer's message once the allowed authentication failures are used up (with Kiln's name). */
export function authenticationFailure(e: Error): string {
  return 'Kiln experienced an authentication error when trying to connect via SSH. This can happen if your '
    + 'username/password are wrong. You may want to double-check your credentials as part of your debugging process. '
    + `original error: ${e.message}`;
}

/**
 * Packer's connection loop: `Waiting for SSH to become available...`, then
 * tries until one succeeds (`Connected to SSH!`), `timeoutMs` has passed
 * (`Timeout waiting for SSH.`), the server has refused authentication
 * `handshakeAttempts` times, or the build is cancelled.
 */
export async function waitForSsh(settings: SshSettings, opts: WaitOptions): Promise<SshConnection> {
  const { ui, signal } = opts;
  ui.say('Waiting for SSH to become available...');
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('Timeout waiting for SSH.')), opts.timeoutMs);
  const attemptSignal = AbortSignal.any([signal, timeout.signal]);
  let authFailures = 0;
  try {
    for (let delay = 0; ; ) {
      try {
        if (delay) await sleep(delay, attemptSignal);
        const conn = await dial(settings, attemptSignal);
        ui.say('Connected to SSH!');
        return conn;
      } catch (e) {
        if (signal.aborted) throw abortError(signal);
        if (timeout.signal.aborted) {
          ui.error('Timeout waiting for SSH.');
          throw new Error('Timeout waiting for SSH.');
        }
        if (e instanceof SshSettingsError) {
          ui.error(`Error waiting for SSH: ${e.message}`);
          throw e;
        }
        if (e instanceof SshAuthError) {
          authFailures++;
          if (authFailures >= Math.max(1, opts.handshakeAttempts)) {
            const message = authenticationFailure(e);
            ui.error(`Error waiting for SSH: ${message}`);
            throw new Error(message);
          }
          delay = opts.authRetryDelayMs ?? 2000;
        } else {
          delay = opts.retryDelayMs ?? 1000;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a private key; the message names the file but never shows its content. */
export function parsePrivateKey(text: Buffer, file: string): ParsedKey {
  const parsed = ssh2().utils.parseKey(text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || !key) {
    throw new SshSettingsError(`the private key ${file} cannot be used: ${key instanceof Error ? key.message : 'no key found'}`);
  }
  if (!key.isPrivateKey()) throw new SshSettingsError(`the file ${file} holds a public key, not a private key`);
  return key;
}
