import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * A throwaway Docker registry (distribution's `docker-registry`, installed by
 * scripts/setup.sh) on a free loopback port, optionally behind basic auth.
 * The engine treats 127.0.0.0/8 as insecure, so pushes over plain HTTP work
 * without any daemon configuration.
 */
export interface TestRegistry {
  /** `127.0.0.1:<port>`, to put in front of repository names. */
  readonly address: string;
  /** The tags of a repository, as the registry lists them (empty when it has none). */
  tags(repository: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** True when the registry binary is installed. */
export function registryAvailable(): boolean {
  return fs.existsSync('/usr/bin/docker-registry');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function get(url: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Starts a registry; with `user`, it requires that user and password (bcrypt htpasswd). */
export async function startRegistry(user?: { name: string; password: string }): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-registry-'));
  const port = await freePort();
  let auth = '';
  if (user) {
    const line = execFileSync('htpasswd', ['-Bbn', user.name, user.password], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, 'htpasswd'), line);
    auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${path.join(dir, 'htpasswd')}\n`;
  }
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    `  filesystem: {rootdirectory: ${path.join(dir, 'data')}}`,
    '  delete: {enabled: true}',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    auth,
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'log'), 'w');
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
  const address = `127.0.0.1:${port}`;
  const credentials = user ? `${user.name}:${user.password}` : undefined;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await get(`http://${address}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the test registry did not start: ${fs.readFileSync(path.join(dir, 'log'), 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    address,
    async tags(repository) {
      const r = await get(`http://${address}/v2/${repository}/tags/list`, credentials);
      if (r.status === 404) return [];
      const parsed = JSON.parse(r.body) as { tags?: string[] | null };
      return [...(parsed.tags ?? [])].sort();
    },
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      fs.closeSync(log);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
