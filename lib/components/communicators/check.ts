import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Communicator types a template may name. */
export const COMMUNICATOR_TYPES = ['ssh', 'winrm', 'docker', 'dockerWindowsContainer', 'none'] as const;

/** The fields `checkCommunicator` reads, whatever builder they come from. */
export interface CommunicatorConfig {
  communicator?: string;
  ssh_host?: string;
  ssh_username?: string;
  ssh_password?: string;
  ssh_private_key_file?: string;
  ssh_agent_auth?: boolean;
  ssh_file_transfer_method?: string;
  ssh_bastion_host?: string;
  ssh_bastion_password?: string;
  ssh_bastion_private_key_file?: string;
  ssh_bastion_agent_auth?: boolean;
  ssh_proxy_host?: string;
  winrm_username?: string;
}

/** Expands a leading `~` as ssh and Packer do. */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * Packer's prepare-time communicator rules. `requireHost` is set by builders
 * that cannot discover the address themselves (null).
 */
export function checkCommunicator(config: CommunicatorConfig, defaultType: string, opts: { requireHost?: boolean; allowed?: readonly string[] } = {}): string[] {
  const errors: string[] = [];
  const type = config.communicator || defaultType;
  const allowed = opts.allowed ?? COMMUNICATOR_TYPES;
  if (!allowed.includes(type)) {
    errors.push(`communicator ${JSON.stringify(type)} is not supported here; use one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return errors;
  }
  if (type === 'ssh') {
    if (opts.requireHost && !config.ssh_host) errors.push('"ssh_host" must be set: the address of the machine to connect to');
    if (!config.ssh_username) errors.push('"ssh_username" must be set for the ssh communicator');
    const methods = [config.ssh_password, config.ssh_private_key_file, config.ssh_agent_auth].filter(Boolean).length;
    if (opts.requireHost && methods === 0) {
      errors.push('one authentication method must be set: "ssh_password", "ssh_private_key_file" or "ssh_agent_auth"');
    }
    if (opts.requireHost && methods > 1) {
      errors.push('only one of "ssh_agent_auth", "ssh_password" and "ssh_private_key_file" may be set');
    }
    if (config.ssh_private_key_file) {
      const file = expandHome(config.ssh_private_key_file);
      if (!fs.existsSync(file)) errors.push(`"ssh_private_key_file" ${JSON.stringify(config.ssh_private_key_file)} does not exist`);
    }
    if (config.ssh_agent_auth && !process.env.SSH_AUTH_SOCK) errors.push('"ssh_agent_auth" needs a running ssh-agent, but SSH_AUTH_SOCK is not set');
    const method = config.ssh_file_transfer_method;
    if (method && method !== 'scp' && method !== 'sftp') {
      errors.push(`"ssh_file_transfer_method" must be "scp" or "sftp", got ${JSON.stringify(method)}`);
    }
    if (config.ssh_bastion_host) {
      if (!config.ssh_bastion_password && !config.ssh_bastion_private_key_file && !config.ssh_private_key_file && !config.ssh_bastion_agent_auth) {
        errors.push('the bastion needs "ssh_bastion_password", "ssh_bastion_private_key_file" or "ssh_bastion_agent_auth"');
      }
      if (config.ssh_proxy_host) errors.push('"ssh_bastion_host" and "ssh_proxy_host" cannot be used together');
    }
  }
  if (type === 'winrm' && !config.winrm_username) errors.push('"winrm_username" must be set for the winrm communicator');
  return errors;
}
