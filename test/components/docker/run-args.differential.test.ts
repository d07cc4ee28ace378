import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Docker from 'dockerode';
import { parseRunArgs } from '../../../lib/components/docker/run-args';

/*
 * `run_command` read by Kiln against the real `docker` CLI: the same
 * arguments make one container with `docker create` and one through the
 * Engine API from what parseRunArgs read; the two containers' settings (as
 * the engine reports them) must be the same. Packer runs the CLI, so this
 * is what a template's run_command means.
 */

const IMAGE = 'kiln/busybox:latest';
const docker = new Docker();
const made: string[] = [];
let dir: string;
/** A named volume the mount case creates (through both sides); removed at the end. */
const VOLUME = `kiln-test-run-args-${process.pid}`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-run-args-'));
  fs.writeFileSync(path.join(dir, 'build.env'), '# settings for the build\nMODE=build\n\nFROM_HOST\nEMPTY=\n');
  fs.mkdirSync(path.join(dir, 'cache'));
});

afterAll(async () => {
  await Promise.all(made.map((id) => docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined)));
  await docker.getVolume(VOLUME).remove().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

type Inspect = Docker.ContainerInspectInfo;

/** The settings a run_command can change, from an inspect. */
function settings(i: Inspect): object {
  const h = i.HostConfig as Record<string, unknown>;
  const c = i.Config as unknown as Record<string, unknown>;
  // The CLI sends empty lists and maps where the API leaves them out: both mean none.
  const empty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  const none = (v: unknown) => (v === undefined || empty(v) ? null : v);
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, none(o[k])]));
  // The docker CLI sends -e variables in Go map order, which changes from run to run: compared as sets.
  const env = Array.isArray(c.Env) ? [...(c.Env as string[])].sort() : c.Env;
  return {
    config: pick({ ...c, Env: env }, ['Env', 'Healthcheck', 'ExposedPorts', 'StopSignal', 'StopTimeout', 'User', 'WorkingDir', 'Labels', 'Tty', 'OpenStdin']),
    host: pick(h, [
      'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'SecurityOpt', 'ShmSize', 'Memory', 'MemorySwap', 'MemoryReservation',
      'NanoCpus', 'CpuShares', 'CpusetCpus', 'Ulimits', 'Sysctls', 'ReadonlyRootfs', 'IpcMode', 'PidMode', 'UTSMode',
      'GroupAdd', 'LogConfig', 'PidsLimit', 'OomKillDisable', 'NetworkMode', 'CapAdd', 'Tmpfs', 'Init', 'Privileged',
      'Mounts', 'PortBindings', 'PublishAllPorts',
    ]),
    platform: i.Platform,
  };
}

async function viaCli(args: string[]): Promise<Inspect> {
  // `docker create` has no -d (it never starts the container): the rest is the same as for `docker run`.
  const id = execFileSync('docker', ['create', ...args.filter((a) => a !== '-d'), IMAGE], { cwd: dir, encoding: 'utf8', env: { ...process.env, FROM_HOST: 'host value' } }).trim();
  made.push(id);
  return docker.getContainer(id).inspect();
}

async function viaKiln(args: string[]): Promise<Inspect> {
  const saved = process.env.FROM_HOST;
  process.env.FROM_HOST = 'host value';
  let spec;
  try {
    spec = parseRunArgs([...args, IMAGE], dir);
  } finally {
    if (saved === undefined) delete process.env.FROM_HOST;
    else process.env.FROM_HOST = saved;
  }
  const container = await docker.createContainer(spec.create);
  made.push(container.id);
  return container.inspect();
}

const cases: [string, string[]][] = [
  ['hosts and DNS', ['--add-host', 'db.internal:10.0.0.5', '--add-host=cache:10.0.0.6', '--dns', '192.0.2.53', '--dns-search', 'example.test', '--dns-option', 'ndots:2', '--dns-opt=timeout:3']],
  ['memory and CPU', ['-m', '512m', '--memory-swap', '1g', '--memory-reservation=256M', '--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--shm-size', '64mb', '--pids-limit', '200']],
  ['unlimited swap and a plain byte count', ['--memory', '100000000', '--memory-swap=-1', '-c', '100']],
  ['ulimits and sysctls', ['--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=512', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.msgmax=65536']],
  ['security and isolation', ['--security-opt', 'no-new-privileges', '--security-opt', 'apparmor=unconfined', '--read-only', '--ipc', 'private', '--pid', 'host', '--uts=host', '--group-add', 'wheel', '--group-add', '10']],
  ['exposed ports, ranges and protocols', ['--expose', '8080', '--expose=9000-9002/udp', '--expose', '53/tcp']],
  ['stop signal and timeout, logging', ['--stop-signal', 'SIGINT', '--stop-timeout', '30', '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt=max-file=2']],
  ['environment files before -e, host values for bare names', ['--env-file', 'build.env', '-e', 'MODE=override', '-e', 'FROM_HOST']],
  ['mounts: bind (relative source, read-only), tmpfs with size and mode, volumes with options', [
    '--mount', 'type=bind,src=./cache,dst=/var/cache/build,ro', '--mount', 'type=tmpfs,dst=/scratch,tmpfs-size=64m,tmpfs-mode=1770',
    '--mount', 'type=volume,dst=/anonymous,volume-nocopy', '--mount', `source=${VOLUME},target=/named,volume-label=kiln.test=run-args`,
    '--mount', '"type=bind","source=./cache","target=/quoted"',
  ]],
  ['published ports: host ports, addresses, protocols, ranges, and all', ['-p', '8080:80', '--publish', '127.0.0.1::53/udp', '-p', '9000-9001:7000-7001', '-p', '3000', '-p', '[::1]:8443:443', '-P']],
  ['a platform', ['--platform', 'linux/amd64']],
  ['a health check (the committed image keeps it)', ['--health-cmd', 'test -e /tmp/ready', '--health-interval', '5s', '--health-timeout=2s', '--health-retries', '4', '--health-start-period', '1m30s']],
  ['health settings without a command, and none at all', ['--health-interval', '10s']],
  ['no health check', ['--no-healthcheck']],
  ['Packer\'s default with a few of the above', ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--shm-size=1g', '--add-host', 'mirror:192.0.2.10', '--ulimit', 'core=-1']],
];

test.each(cases)('%s: the container is set up as the docker CLI sets it up', async (_name, args) => {
  const [cli, kiln] = await Promise.all([viaCli(args), viaKiln(args)]);
  expect(settings(kiln)).toEqual(settings(cli));
});

test('Kiln keeps the order of the command line: the env file\'s variables, then those of -e', async () => {
  const kiln = await viaKiln(['--env-file', 'build.env', '-e', 'MODE=override', '-e', 'FROM_HOST']);
  expect(kiln.Config.Env).toEqual(['MODE=build', 'FROM_HOST=host value', 'EMPTY=', 'MODE=override', 'FROM_HOST=host value']);
});

test('a bad value is refused by name before any container is made', () => {
  expect(() => parseRunArgs(['--memory', 'lots', IMAGE])).toThrow('run_command: invalid value "lots" for --memory: a size such as 512m or 2g');
  expect(() => parseRunArgs(['--cpus', 'x', IMAGE])).toThrow('run_command: invalid value "x" for --cpus: a number of CPUs such as 1.5');
  expect(() => parseRunArgs(['--ulimit', 'nofile', IMAGE])).toThrow('run_command: invalid value "nofile" for --ulimit: name=soft[:hard], e.g. nofile=1024:2048');
  expect(() => parseRunArgs(['--expose', '80-70', IMAGE])).toThrow('run_command: invalid value "80-70" for --expose: a port or range, e.g. 8080, 9000-9002/udp');
  expect(() => parseRunArgs(['--env-file', '/nonexistent/kiln.env', IMAGE])).toThrow('run_command: --env-file /nonexistent/kiln.env: ENOENT: no such file or directory');
  expect(() => parseRunArgs(['--mount', 'type=bind,dst=/x', IMAGE])).toThrow('run_command: invalid value "type=bind,dst=/x" for --mount: a source for a bind mount');
  expect(() => parseRunArgs(['--mount', 'type=tmpfs,dst=/x,volume-nocopy', IMAGE])).toThrow('for --mount: volume-* options need type=volume, not tmpfs');
  expect(() => parseRunArgs(['-p', '80-81:90-92', IMAGE])).toThrow('for --publish: host and container ranges of the same length');
  expect(() => parseRunArgs(['--no-healthcheck', '--health-cmd', 'true', IMAGE])).toThrow('run_command: --no-healthcheck conflicts with --health-* options');
  expect(() => parseRunArgs(['--health-interval', 'soon', IMAGE])).toThrow('for --health-interval: a duration such as 30s or 1m30s');
  expect(() => parseRunArgs(['-p', 'published=8080,target=80', IMAGE])).toThrow('Kiln does not read the long form');
});
