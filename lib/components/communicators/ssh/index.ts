import * as fs from 'fs';
import * as path from 'path';
import { SshCommunicator } from './communicator';
import { parsePrivateKey, SshHop, SshSettings, SshSettingsError, waitForSsh } from './connect';
import { goDuration, sleep } from '../../../engine/build';
import type { BuildEnvironment } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { parseDuration } from '../../../template/schema';
import { expandHome } from '../check';
import type { sshFields } from '../fields';

export { SshCommunicator, CMD_DISCONNECT } from './communicator';
export { SshSettings, SshSettingsError, waitForSsh, dial } from './connect';

/**
 * From a builder's `ssh_*` settings to a connected communicator: the
 * settings are read and checked once (key files parsed, durations
 * converted), then Packer's wait loop connects.
 */

export type SshConfig = ConfigOf<typeof sshFields>;

/** The connection settings plus the wait loop's limits. */
export interface SshPlan {
  readonly settings: SshSettings;
  readonly timeoutMs: number;
  readonly handshakeAttempts: number;
}

function duration(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  return parseDuration(value);
}

function readKey(file: string, field: string, cwd: string) {
  const resolved = path.resolve(cwd, expandHome(file));
  let text: Buffer;
  try {
    text = fs.readFileSync(resolved);
  } catch (e) {
    throw new SshSettingsError(`${field} ${JSON.stringify(file)} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parsePrivateKey(text, JSON.stringify(file));
}

/**
 * Reads the ssh settings of a builder config. `host` overrides `ssh_host`
 * (builders that find the address themselves). Fails with a clear message on
 * settings Kiln cannot honour.
 */
export function sshPlan(config: Partial<SshConfig>, cwd: string, host?: string): SshPlan {
  const unsupported = (['ssh_certificate_file', 'ssh_bastion_certificate_file', 'ssh_proxy_host', 'ssh_bastion_interactive'] as const)
    .filter((k) => Boolean(config[k]));
  if (config.ssh_local_tunnels?.length) unsupported.push('ssh_local_tunnels' as never);
  if (config.ssh_remote_tunnels?.length) unsupported.push('ssh_remote_tunnels' as never);
  if (unsupported.length) {
    throw new SshSettingsError(`${unsupported.map((k) => JSON.stringify(k)).join(', ')} ${unsupported.length > 1 ? 'are' : 'is'} not supported by Kiln's ssh communicator yet`);
  }
  const agentSocket = process.env.SSH_AUTH_SOCK || undefined;
  if ((config.ssh_agent_auth || config.ssh_bastion_agent_auth) && !agentSocket) {
    throw new SshSettingsError('SSH_AUTH_SOCK is not set: "ssh_agent_auth" needs a running ssh-agent');
  }
  const method = config.ssh_file_transfer_method || 'scp';
  if (method !== 'scp' && method !== 'sftp') throw new SshSettingsError(`"ssh_file_transfer_method" must be "scp" or "sftp", got ${JSON.stringify(method)}`);
  const target = host ?? config.ssh_host ?? '';
  if (!target) throw new SshSettingsError('no SSH host: set "ssh_host"');
  const mainKey = config.ssh_private_key_file ? readKey(config.ssh_private_key_file, 'ssh_private_key_file', cwd) : undefined;

  let bastion: SshHop | undefined;
  if (config.ssh_bastion_host) {
    const keyFile = config.ssh_bastion_private_key_file;
    bastion = {
      host: config.ssh_bastion_host,
      port: config.ssh_bastion_port || 22,
      username: config.ssh_bastion_username ?? '',
      password: config.ssh_bastion_password || undefined,
      // Packer falls back to the main key file.
      privateKey: keyFile ? readKey(keyFile, 'ssh_bastion_private_key_file', cwd) : mainKey,
      agent: config.ssh_bastion_agent_auth ? agentSocket : undefined,
    };
  }

  const keepAlive = duration(config.ssh_keep_alive_interval, 5000);
  const settings: SshSettings = {
    host: target,
    port: config.ssh_port || 22,
    username: config.ssh_username ?? '',
    password: config.ssh_password || undefined,
    privateKey: mainKey,
    agent: config.ssh_agent_auth ? agentSocket : undefined,
    bastion,
    pty: config.ssh_pty ?? false,
    keepAliveMs: keepAlive === 0 ? 5000 : keepAlive,
    readWriteTimeoutMs: Math.max(0, duration(config.ssh_read_write_timeout, 0)),
    agentForwarding: !config.ssh_disable_agent_forwarding && agentSocket ? agentSocket : undefined,
    fileTransfer: method,
    handshakeTimeoutMs: 60_000,
    ciphers: config.ssh_ciphers,
    kex: config.ssh_key_exchange_algorithms,
  };
  // `ssh_wait_timeout`, the old name, wins when set (Packer's backwards compatibility).
  const wait = duration(config.ssh_wait_timeout, 0);
  const timeoutMs = wait > 0 ? wait : duration(config.ssh_timeout, 0) || 300_000;
  return { settings, timeoutMs, handshakeAttempts: config.ssh_handshake_attempts || 10 };
}

/**
 * Packer's StepConnect for ssh: `Using ssh communicator to connect: <host>`,
 * the wait loop, and `pause_before_connecting` (connect, pause, connect
 * again). The connection is closed when the build's cleanups run.
 */
export async function connectSsh(env: BuildEnvironment, plan: SshPlan, pauseBeforeConnectingMs = 0): Promise<SshCommunicator> {
  const { ui, signal } = env;
  ui.say(`Using ssh communicator to connect: ${plan.settings.host}`);
  const wait = () => waitForSsh(plan.settings, { timeoutMs: plan.timeoutMs, handshakeAttempts: plan.handshakeAttempts, ui, signal });
  let conn = await wait();
  if (pauseBeforeConnectingMs > 0) {
    conn.close();
    ui.say(`Pausing ${goDuration(pauseBeforeConnectingMs)} before connecting...`);
    await sleep(pauseBeforeConnectingMs, signal);
    conn = await wait();
  }
  const communicator = new SshCommunicator(plan.settings, conn, { signal, tempDir: () => env.tempDir('upload') });
  env.cleanups.defer(`SSH connection to ${plan.settings.host}:${plan.settings.port}`, () => communicator.close());
  return communicator;
}
