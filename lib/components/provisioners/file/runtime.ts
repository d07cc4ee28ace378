import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { fileProvisioner } from './declaration';
import type { BuildEnvironment, Communicator, GeneratedData, ProvisionerRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { permissionBits } from '../../docker/communicator';

/**
 * The file provisioner: copies files and directories to the machine being
 * built, or from it, with Packer's rules for trailing slashes. A download is
 * written under a temporary name and renamed into place, so a failed or
 * interrupted one never leaves a truncated file under the final name.
 */

type FileConfig = ConfigOf<typeof fileProvisioner.fields>;

const NO_COMMUNICATOR = 'No communicator found for provisioners! This is usually because the `communicator` config was set to "none". If you have any provisioners then a communicator is required. Please fix this to continue.';

/** `stat x: no such file or directory`, as Go words it. */
function goStatError(p: string, e: NodeJS.ErrnoException): Error {
  const reason: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
  };
  return new Error(`stat ${p}: ${reason[e.code ?? ''] ?? e.message}`);
}

export const provisioner: ProvisionerRuntime = {
  async provision(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, comm: Communicator | undefined, data: GeneratedData) {
    const config = rawConfig as FileConfig;
    if (!comm) throw new Error(NO_COMMUNICATOR);
    const ctx = { ...env.interpolation, stage: 'provisioner' as const, data };
    let dst: string;
    try {
      dst = renderRepeatedly(config.destination, ctx);
    } catch (e) {
      throw new Error(`Error interpolating destination: ${(e as Error).message}`);
    }
    const sources: string[] = [];
    for (const s of [...(config.sources ?? []), ...(config.source ? [config.source] : [])]) {
      try {
        sources.push(renderRepeatedly(s, ctx));
      } catch (e) {
        throw new Error(`Error interpolating source: ${(e as Error).message}`);
      }
    }
    if (config.direction === 'download') await download(env, comm, sources, dst);
    else await upload(env, comm, sources, dst);
  },
};

async function upload(env: BuildEnvironment, comm: Communicator, sources: readonly string[], dst: string): Promise<void> {
  const { ui } = env;
  const cwd = env.interpolation.cwd ?? process.cwd();
  for (const src of sources) {
    ui.say(`Uploading ${src} => ${dst}`);
    const local = path.resolve(cwd, src);
    let st: fs.Stats;
    try {
      st = await fsp.stat(local);
    } catch (e) {
      throw goStatError(src, e as NodeJS.ErrnoException);
    }
    if (st.isDirectory()) {
      try {
        // The trailing slash decides between "the directory" and "its contents".
        await comm.uploadDir(dst, src.endsWith('/') ? `${local}/` : local);
      } catch (e) {
        ui.error(`Upload failed: ${(e as Error).message}`);
        throw e;
      }
      continue;
    }
    const fileDst = dst.endsWith('/') ? dst + path.basename(src) : dst;
    const stream = fs.createReadStream(local);
    try {
      await comm.upload(fileDst, stream, { size: st.size, mode: permissionBits(st.mode) });
    } catch (e) {
      const msg = (e as Error).message;
      if (msg.includes('Error restoring file')) {
        ui.error(`Upload failed: ${msg}; this can occur when your file destination is a folder without a trailing slash.`);
      }
      ui.error(`Upload failed: ${msg}`);
      throw e;
    } finally {
      stream.destroy();
    }
  }
}

async function download(env: BuildEnvironment, comm: Communicator, sources: readonly string[], destination: string): Promise<void> {
  const { ui } = env;
  const cwd = env.interpolation.cwd ?? process.cwd();
  let dst = destination;
  for (const src of sources) {
    ui.say(`Downloading ${src} => ${dst}`);
    let dir = dst;
    if (!dst.endsWith('/')) {
      dir = path.dirname(dst);
    } else if (!src.endsWith('/') && !src.endsWith('*')) {
      // As in Packer, this changes the destination of the sources that follow too.
      dst = path.join(dst, path.basename(src));
    }
    if (dir) await fsp.mkdir(path.resolve(cwd, dir), { recursive: true, mode: 0o755 });
    if (src.endsWith('/') || /[*?[]/.test(src)) {
      // Packer returns here: a directory download ends the list.
      await comm.downloadDir(src, path.resolve(cwd, dst));
      return;
    }
    await downloadFile(env, comm, src, path.resolve(cwd, dst));
  }
}

/** Downloads into `<target>.kiln-partial-<random>` and renames it to `target` once complete. */
async function downloadFile(env: BuildEnvironment, comm: Communicator, src: string, target: string): Promise<void> {
  const { ui } = env;
  let mode = 0o644;
  try {
    mode = permissionBits((await fsp.stat(target)).mode);
  } catch {
    // A new file.
  }
  const partial = `${target}.kiln-partial-${randomBytes(4).toString('hex')}`;
  env.journal?.add('file', partial);
  let done = false;
  env.cleanups.defer(`partial file ${partial}`, async () => {
    if (!done) await fsp.rm(partial, { force: true });
    env.journal?.remove('file', partial);
  });
  const out = fs.createWriteStream(partial, { mode });
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  try {
    await comm.download(src, out);
    out.end();
    await closed;
    await fsp.rename(partial, target);
    done = true;
    env.journal?.remove('file', partial);
  } catch (e) {
    out.destroy();
    await closed.catch(() => undefined);
    await fsp.rm(partial, { force: true });
    if (!env.signal.aborted) ui.error(`Download failed: ${(e as Error).message}`);
    throw e;
  }
}
