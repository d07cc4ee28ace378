/* eslint-disable @typescript-eslint/no-require-imports */
import type { RuntimeLoader } from '../engine/build';
import type { BuilderRuntime, PostProcessorRuntime, ProvisionerRuntime } from '../engine/types';

/**
 * The runtimes of the components, loaded on first use: a build that uses only
 * shell-local never loads the Docker client. Each entry is a component folder's
 * `runtime.ts`.
 */
const BUILDERS: Record<string, () => { builder: BuilderRuntime }> = {
  'docker': () => require('./builders/docker/runtime'),
  'null': () => require('./builders/null/runtime'),
  'file': () => require('./builders/file/runtime'),
  'amazon-ebs': () => require('./builders/amazon-ebs/runtime'),
};

const PROVISIONERS: Record<string, () => { provisioner: ProvisionerRuntime }> = {
  'shell': () => require('./provisioners/shell/runtime'),
  'file': () => require('./provisioners/file/runtime'),
  'shell-local': () => require('./provisioners/shell-local/runtime'),
  'breakpoint': () => require('./provisioners/breakpoint/runtime'),
  'ansible': () => require('./provisioners/ansible/runtime'),
  'ansible-local': () => require('./provisioners/ansible-local/runtime'),
  'puppet-masterless': () => require('./provisioners/puppet-masterless/runtime'),
};

const POST_PROCESSORS: Record<string, () => { postProcessor: PostProcessorRuntime }> = {
  'docker-tag': () => require('./post-processors/docker-tag/runtime'),
  'docker-push': () => require('./post-processors/docker-push/runtime'),
  'docker-save': () => require('./post-processors/docker-save/runtime'),
  'docker-import': () => require('./post-processors/docker-import/runtime'),
  'compress': () => require('./post-processors/compress/runtime'),
  'manifest': () => require('./post-processors/manifest/runtime'),
  'checksum': () => require('./post-processors/checksum/runtime'),
  'shell-local': () => require('./post-processors/shell-local/runtime'),
  'artifice': () => require('./post-processors/artifice/runtime'),
};

function load<T>(table: Record<string, () => T>, kind: string, type: string): T {
  const loader = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
  if (!loader) throw new Error(`no runtime for ${kind} type "${type}"`);
  try {
    return loader();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes('/runtime')) {
      throw new Error(`the ${kind} "${type}" can be validated but this version of Kiln cannot run it yet`);
    }
    throw e;
  }
}

export const RUNTIMES: RuntimeLoader = {
  builder: (type) => load(BUILDERS, 'builder', type).builder,
  provisioner: (type) => load(PROVISIONERS, 'provisioner', type).provisioner,
  postProcessor: (type) => load(POST_PROCESSORS, 'post-processor', type).postProcessor,
};
