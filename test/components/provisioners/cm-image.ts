import { execFileSync } from 'child_process';

/**
 * The machine image the configuration-management provisioners are tested
 * against: kiln/sshd plus python3, ansible-core, puppet and sudo, made by
 * scripts/setup.sh from the Debian mirror (nothing is pulled).
 */
export const CM_IMAGE = 'kiln/cm:latest';

/** Fails clearly when the image, or Ansible on this machine, is missing: scripts/setup.sh provides both. */
export function requireCmImage(): void {
  for (const [what, cmd, args] of [
    [CM_IMAGE, 'docker', ['image', 'inspect', CM_IMAGE]],
    ['ansible-playbook', 'ansible-playbook', ['--version']],
  ] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'ignore' });
    } catch {
      throw new Error(`${what} is missing: run "bash scripts/setup.sh" first`);
    }
  }
}

/** A docker build from the image, committed, with nothing pulled. */
export function cmDockerBuilder(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'docker', image: CM_IMAGE, pull: false, commit: true, ...extra };
}
