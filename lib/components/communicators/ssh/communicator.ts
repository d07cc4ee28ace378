import * as fsp from 'fs/promises';
import * as os from 'os';
import { Readable, Writable } from 'stream';
import type { ClientChannel, ExecOptions, SFTPWrapper } from 'ssh2';
import { dial, SshConnection, SshSettings } from './connect';
import { hasWildcards } from './paths';
import { scpDownload, scpDownloadDir, scpUpload, scpUploadDir } from './scp';
import { sftpDownload, sftpDownloadDir, sftpUpload, sftpUploadDir } from './sftp';
import { abortError } from '../../../engine/build';
import type { Communicator, ExecIo } from '../../../engine/types';
import { LineSplitter } from '../../docker/streams';
import { spool } from '../spool';

/**
 * Packer's ssh communicator over ssh2. Commands run as `<command>\n` on a new
 * session each; output is delivered by line as it comes. When the connection
 * has dropped (the machine restarted sshd or rebooted), the next operation
 * reconnects once with the same settings, as Packer does: the shell
 * provisioner's retry loop (`start_retry_timeout`) keeps trying until the
 * machine is back.
 */

/** The exit status Packer gives a command whose connection dropped before it reported one. */
export const CMD_DISCONNECT = 2300218;

/** Uploads of unknown size are measured in memory up to this size, else in a scratch file (scp needs the size first). */

export interface SshCommunicatorOptions {
  /** Cancels operations in flight (the build's signal). */
  readonly signal: AbortSignal;
  /** A private scratch directory, used to measure large scp uploads whose size is unknown. */
  readonly tempDir?: () => Promise<string>;
}

/** Go's exit status for a command killed by a signal: 128 plus the signal's number. */
function signalStatus(name: string | undefined): number {
  const n = name ? (os.constants.signals as Record<string, number>)[`SIG${name.replace(/^SIG/, '')}`] : undefined;
  return 128 + (n ?? 0);
}

export class SshCommunicator implements Communicator {
  private conn: SshConnection | undefined;
  private reconnecting: Promise<SshConnection> | undefined;
  private closed = false;

  constructor(private readonly settings: SshSettings, conn: SshConnection, private readonly opts: SshCommunicatorOptions) {
    this.conn = conn;
  }

  /**
   * With sftp an upload ends with a chmod to exactly the mode asked for; scp
   * leaves an existing file's mode alone and applies the umask to a new one.
   */
  public get uploadSetsMode(): boolean {
    return this.settings.fileTransfer === 'sftp';
  }

  /** Commands run as the login user: root only when that is who logged in. */
  public get commandsRunAsRoot(): boolean {
    return this.settings.username === 'root';
  }

  /** Closes the connection; later operations fail. */
  public close(): void {
    this.closed = true;
    this.conn?.close();
    this.conn = undefined;
  }

  public async exec(command: string, io: ExecIo): Promise<number> {
    const signal = io.signal ? AbortSignal.any([io.signal, this.opts.signal]) : this.opts.signal;
    if (signal.aborted) throw abortError(signal);
    const channel = await this.channel(`${command}\n`, this.settings.pty);
    if (signal.aborted) {
      channel.close();
      throw abortError(signal);
    }
    const stdout = new LineSplitter((l) => io.stdout?.(l));
    const stderr = new LineSplitter((l) => io.stderr?.(l));
    return new Promise<number>((resolve, reject) => {
      let status: number | undefined;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        stdout.end();
        stderr.end();
        if (err) reject(err);
        else resolve(status ?? CMD_DISCONNECT);
      };
      const onAbort = () => {
        try {
          channel.signal('TERM');
        } catch {
          // The channel is going away anyway.
        }
        channel.close();
        finish(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      channel.on('data', (c: Buffer) => stdout.write(c));
      channel.stderr.on('data', (c: Buffer) => stderr.write(c));
      // The status comes with 'close' (ssh2 emits 'exit' as soon as it parses it, possibly before
      // anyone listens). A channel that closes without one lost its connection: Packer's disconnect code.
      channel.on('close', (code?: number | null, signalName?: string) => {
        if (typeof code === 'number') status = code;
        else if (code === null && signalName) status = signalStatus(signalName);
        finish();
      });
      channel.on('error', () => undefined);
      if (io.stdin) {
        io.stdin.on('error', () => channel.end());
        io.stdin.pipe(channel);
      } else {
        channel.end();
      }
    });
  }

  public async upload(dst: string, src: Readable, info: { size?: number; mode?: number }): Promise<void> {
    await this.guard(async () => {
      if (this.settings.fileTransfer === 'sftp') {
        await this.withSftp((sftp) => sftpUpload(sftp, dst, src, info.mode));
        return;
      }
      // scp announces the size first; streamed content without one is measured first (Packer uses a temporary file).
      let size = info.size;
      let body: Readable = src;
      let scratch: string | undefined;
      try {
        if (size === undefined) {
          const spooled = await spool(src, this.opts.tempDir);
          size = spooled.size;
          body = spooled.open();
          scratch = spooled.file;
        }
        await scpUpload((c) => this.channel(c, false), dst, body, size, info.mode ?? 0o644);
      } finally {
        if (body !== src) body.destroy();
        if (scratch) await fsp.rm(scratch, { force: true });
      }
    });
  }

  public async uploadDir(dst: string, src: string): Promise<void> {
    await this.guard(async () => {
      if (this.settings.fileTransfer === 'sftp') await this.withSftp((sftp) => sftpUploadDir(sftp, dst, src));
      else await scpUploadDir((c) => this.channel(c, false), dst, src);
    });
  }

  public async download(src: string, dst: Writable): Promise<void> {
    await this.guard(async () => {
      if (this.settings.fileTransfer === 'sftp') await this.withSftp((sftp) => sftpDownload(sftp, src, dst));
      else await scpDownload((c) => this.channel(c, false), src, dst);
    });
  }

  /**
   * Copies a remote directory (or the files a wildcard names) into the local
   * directory `dst`. Packer always uses scp here; Kiln uses sftp when that is
   * the chosen method, except for wildcards, which need the remote shell.
   */
  public async downloadDir(src: string, dst: string): Promise<void> {
    await this.guard(async () => {
      if (this.settings.fileTransfer === 'sftp' && !hasWildcards(src)) await this.withSftp((sftp) => sftpDownloadDir(sftp, src, dst));
      else await scpDownloadDir((c) => this.channel(c, false), src, dst);
    });
  }

  /** Runs a transfer; a cancelled build reports the cancellation rather than the broken copy. */
  private async guard(fn: () => Promise<void>): Promise<void> {
    const signal = this.opts.signal;
    if (signal.aborted) throw abortError(signal);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        // Drop the connection: whatever was copying stops, and the next operation reconnects.
        this.conn?.close();
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([fn(), aborted]);
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** The live connection, reconnecting once (shared by concurrent callers) if it has dropped. */
  private async connection(): Promise<SshConnection> {
    if (this.closed) throw Object.assign(new Error('the SSH communicator is closed'), { unrecoverable: true });
    if (this.conn?.alive) return this.conn;
    this.reconnecting ??= dial(this.settings, this.opts.signal).then((c) => {
      this.conn = c;
      return c;
    }).finally(() => {
      this.reconnecting = undefined;
    });
    try {
      return await this.reconnecting;
    } catch (e) {
      throw new Error(`ssh: reconnecting to ${this.settings.host}:${this.settings.port} failed: ${(e as Error).message}`);
    }
  }

  /**
   * A new session running `command`. A session that cannot be opened on the
   * current connection (it dropped, perhaps without our noticing) is tried
   * once more on a fresh connection.
   */
  private async channel(command: string, pty: boolean): Promise<ClientChannel> {
    const open = (conn: SshConnection) => new Promise<ClientChannel>((resolve, reject) => {
      const options: ExecOptions = pty ? { pty: { term: 'xterm', rows: 40, cols: 80, modes: { ECHO: 0, TTY_OP_ISPEED: 14400, TTY_OP_OSPEED: 14400 } } } : {};
      try {
        conn.client.exec(command, options, (err, ch) => (err ? reject(err) : resolve(ch)));
      } catch (e) {
        reject(e as Error);
      }
    });
    const first = await this.connection();
    try {
      return await open(first);
    } catch {
      if (this.opts.signal.aborted) throw abortError(this.opts.signal);
      first.close();
      return open(await this.connection());
    }
  }

  /** Runs `fn` with an SFTP session of its own (as Packer opens one per transfer). */
  private async withSftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const open = (conn: SshConnection) => new Promise<SFTPWrapper>((resolve, reject) => {
      try {
        conn.client.sftp((err, sftp) => (err ? reject(new Error(`sftpSession error: ${err.message}`)) : resolve(sftp)));
      } catch (e) {
        reject(e as Error);
      }
    });
    const first = await this.connection();
    let sftp: SFTPWrapper;
    try {
      sftp = await open(first);
    } catch (e) {
      if (this.opts.signal.aborted) throw abortError(this.opts.signal);
      if (first.alive && /sftpSession error/.test((e as Error).message)) throw e;
      first.close();
      sftp = await open(await this.connection());
    }
    try {
      return await fn(sftp);
    } finally {
      sftp.end();
    }
  }

}
