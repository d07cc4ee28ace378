import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { KILN } from './kiln';

/*
 * amazon-ebs with the real AWS SDK and no way to reach AWS (these machines
 * have none): the build must stop at once with a cause a user can act on,
 * print no stack trace, and leave nothing behind.
 */

function run(template: object): { code: number | null; out: string; leftovers: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-ebs-'));
  try {
    const home = path.join(dir, 'home');
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(home);
    fs.mkdirSync(tmp);
    fs.writeFileSync(path.join(dir, 'ami.json'), JSON.stringify(template));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmp, KILN_STATE_DIR: path.join(dir, 'state'), AWS_EC2_METADATA_DISABLED: 'true' };
    for (const k of Object.keys(env)) if (k.startsWith('AWS_') && k !== 'AWS_EC2_METADATA_DISABLED') delete env[k];
    delete env.KILN_DEBUG;
    const r = spawnSync(process.execPath, [KILN, 'build', '-color=false', 'ami.json'], { cwd: dir, env, encoding: 'utf8', timeout: 90_000 });
    return { code: r.status, out: r.stdout + r.stderr, leftovers: fs.readdirSync(tmp) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const builder = {
  type: 'amazon-ebs',
  region: 'eu-west-1',
  source_ami: 'ami-0123456789abcdef0',
  instance_type: 't3.micro',
  ssh_username: 'admin',
  ami_name: 'kiln-offline-{{timestamp}}',
};

describe('amazon-ebs with the real AWS SDK, AWS unreachable', () => {
  test('no credentials: one clear line saying how to provide them, no stack trace, nothing left', () => {
    const r = run({ builders: [builder] });
    expect(r.code).toBe(1);
    expect(r.out).toContain('no AWS credentials: set "access_key" and "secret_key", or "profile", or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(r.out).not.toMatch(/\n\s+at /);
    expect(r.leftovers).toEqual([]);
  });

  test('an endpoint that does not answer: says EC2 cannot be reached, and where', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const r = run({
      builders: [{ ...builder, access_key: 'AKIAEXAMPLEEXAMPLE12', secret_key: 'not-a-real-secret-key', custom_endpoint_ec2: `http://127.0.0.1:${port}`, max_retries: 1 }],
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('cannot reach EC2 in eu-west-1 (ECONNREFUSED)');
    expect(r.out).not.toContain('not-a-real-secret-key');
    expect(r.out).not.toMatch(/\n\s+at /);
    expect(r.leftovers).toEqual([]);
  });
});
