import * as path from 'path';
import type Docker from 'dockerode';

/**
 * Reads `docker run` arguments (the docker builder's `run_command`) into the
 * create options the Engine API takes, the way the `docker` CLI builds them,
 * so that a container started by Kiln, and the image committed from it, get
 * the same config as with Packer, which runs the CLI.
 *
 * Flags are parsed as the CLI's flag library does: `--flag=value` and
 * `--flag value`; short flags can be grouped (`-dit`) and take their value
 * attached (`-eA=1`), after `=` (`-e=A=1`) or as the next argument; parsing
 * stops at `--` or at the first argument that is not a flag, which is the
 * image, and everything after it is the command.
 */

type FlagKind = 'bool' | 'value';

interface FlagSpec {
  readonly kind: FlagKind;
  readonly short?: string;
}

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  'detach': { kind: 'bool', short: 'd' },
  'interactive': { kind: 'bool', short: 'i' },
  'tty': { kind: 'bool', short: 't' },
  'privileged': { kind: 'bool' },
  'init': { kind: 'bool' },
  'rm': { kind: 'bool' },
  'entrypoint': { kind: 'value' },
  'env': { kind: 'value', short: 'e' },
  'user': { kind: 'value', short: 'u' },
  'workdir': { kind: 'value', short: 'w' },
  'volume': { kind: 'value', short: 'v' },
  'name': { kind: 'value' },
  'label': { kind: 'value', short: 'l' },
  'network': { kind: 'value' },
  'net': { kind: 'value' },
  'hostname': { kind: 'value', short: 'h' },
  'tmpfs': { kind: 'value' },
  'cap-add': { kind: 'value' },
  'cap-drop': { kind: 'value' },
  'device': { kind: 'value' },
};

const SHORT: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(FLAGS).filter(([, s]) => s.short).map(([name, s]) => [s.short!, name]),
);

const KNOWN = Object.entries(FLAGS)
  .map(([name, s]) => (s.short ? `-${s.short}/--${name}` : `--${name}`))
  .join(', ');

/** A `run_command` Kiln cannot read. */
export class RunArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunArgsError';
  }
}

/** What `parseRunArgs` returns. */
export interface RunSpec {
  /** The image to start, as written. */
  readonly image: string;
  /** The command after the image; empty for the image's default. */
  readonly command: readonly string[];
  /** Engine API create options (`Config` fields plus `HostConfig`, and `name`). */
  readonly create: Docker.ContainerCreateOptions;
}

/** Go's strconv.ParseBool, which the CLI uses for `--flag=value` booleans. */
function parseBool(flag: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new RunArgsError(`run_command: invalid value ${JSON.stringify(value)} for ${flag}: a boolean flag takes true or false`);
}

/** `r`, `w`, `m` each at most once: the permissions part of `--device`. */
function isDeviceMode(s: string): boolean {
  if (!s) return false;
  const seen = new Set<string>();
  for (const c of s) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

/** `--device host[:container][:permissions]`, as the CLI reads it on Linux. */
function parseDevice(spec: string): Docker.DeviceMapping {
  const parts = spec.split(':');
  if (parts.length > 3 || !parts[0]) throw new RunArgsError(`run_command: invalid device specification: ${spec}`);
  let dst = '';
  let perms = 'rwm';
  if (parts.length === 3) perms = parts[2];
  if (parts.length >= 2) {
    if (isDeviceMode(parts[1])) perms = parts[1];
    else dst = parts[1];
  }
  return { PathOnHost: parts[0], PathInContainer: dst || parts[0], CgroupPermissions: perms };
}

/** Parses `docker run` arguments (without the leading `run`). Throws a RunArgsError naming what it cannot read. */
export function parseRunArgs(args: readonly string[], cwd: string = process.cwd()): RunSpec {
  const bools: Record<string, boolean> = {};
  const values: Record<string, string[]> = {};
  const set = (name: string, value: string | boolean, shown: string) => {
    if (FLAGS[name].kind === 'bool') {
      bools[name] = typeof value === 'boolean' ? value : parseBool(shown, value);
    } else {
      (values[name] ??= []).push(String(value));
    }
  };

  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = Object.prototype.hasOwnProperty.call(FLAGS, name) ? FLAGS[name] : undefined;
      if (!spec) throw new RunArgsError(`run_command: Kiln does not support the docker run option "--${name}"; it understands ${KNOWN} (and "--")`);
      if (eq >= 0) {
        set(name, a.slice(eq + 1), `--${name}`);
      } else if (spec.kind === 'bool') {
        set(name, true, `--${name}`);
      } else {
        if (i + 1 >= args.length) throw new RunArgsError(`run_command: the option "--${name}" needs a value`);
        set(name, args[++i], `--${name}`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const name = Object.prototype.hasOwnProperty.call(SHORT, c) ? SHORT[c] : undefined;
        if (!name) throw new RunArgsError(`run_command: Kiln does not support the docker run option "-${c}" (in "${a}"); it understands ${KNOWN} (and "--")`);
        let rest = a.slice(j + 1);
        if (FLAGS[name].kind === 'bool') {
          if (rest.startsWith('=')) {
            set(name, rest.slice(1), `-${c}`);
            break;
          }
          set(name, true, `-${c}`);
          continue;
        }
        if (rest.startsWith('=')) rest = rest.slice(1);
        if (rest) {
          set(name, rest, `-${c}`);
        } else {
          if (i + 1 >= args.length) throw new RunArgsError(`run_command: the option "-${c}" needs a value`);
          set(name, args[++i], `-${c}`);
        }
        break;
      }
      continue;
    }
    break;
  }

  if (i >= args.length) throw new RunArgsError('run_command names no image: put the image (usually "{{.Image}}") after the options');
  const image = args[i];
  const command = args.slice(i + 1);

  const detach = bools.detach ?? false;
  const interactive = bools.interactive ?? false;
  const create: Docker.ContainerCreateOptions = {
    Image: image,
    Tty: bools.tty ?? false,
    OpenStdin: interactive,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    StdinOnce: interactive && !detach,
  };
  if (command.length) create.Cmd = [...command];
  if (values.entrypoint) {
    const ep = values.entrypoint[values.entrypoint.length - 1];
    // The CLI resets the image's entrypoint when the flag is given empty.
    create.Entrypoint = [ep];
  }
  if (values.env) {
    create.Env = values.env.map((e) => {
      if (e.includes('=')) return e;
      const fromHost = process.env[e];
      return fromHost === undefined ? e : `${e}=${fromHost}`;
    });
  }
  if (values.user) create.User = values.user[values.user.length - 1];
  if (values.workdir) create.WorkingDir = values.workdir[values.workdir.length - 1];
  if (values.hostname) create.Hostname = values.hostname[values.hostname.length - 1];
  if (values.name) create.name = values.name[values.name.length - 1];
  if (values.label) {
    create.Labels = {};
    for (const l of values.label) {
      const eq = l.indexOf('=');
      create.Labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
    }
  }

  const host: Docker.HostConfig = {};
  for (const v of values.volume ?? []) {
    const colon = v.indexOf(':');
    if (colon < 0) {
      // An anonymous volume: part of the container's config, as with the CLI.
      create.Volumes = { ...create.Volumes, [v]: {} };
      continue;
    }
    let hostPart = v.slice(0, colon);
    if (hostPart === '.' || hostPart.startsWith('./') || hostPart.startsWith('../') || hostPart === '..') hostPart = path.resolve(cwd, hostPart);
    (host.Binds ??= []).push(`${hostPart}${v.slice(colon)}`);
  }
  if (bools.privileged) host.Privileged = true;
  if (bools.init !== undefined) host.Init = bools.init;
  if (values['cap-add']) host.CapAdd = [...values['cap-add']];
  if (values['cap-drop']) host.CapDrop = [...values['cap-drop']];
  if (values.device) host.Devices = values.device.map(parseDevice);
  if (values.tmpfs) {
    host.Tmpfs = {};
    for (const t of values.tmpfs) {
      const colon = t.indexOf(':');
      host.Tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
    }
  }
  const network = [...(values.network ?? []), ...(values.net ?? [])];
  if (network.length) host.NetworkMode = network[network.length - 1];
  create.HostConfig = host;
  return { image, command, create };
}

/** The docker builder's options that Packer turns into `docker run` flags in front of `run_command`. */
export interface BuilderRunOptions {
  readonly device?: readonly string[];
  readonly cap_add?: readonly string[];
  readonly cap_drop?: readonly string[];
  readonly privileged?: boolean;
  readonly tmpfs?: readonly string[];
  readonly volumes?: Readonly<Record<string, string>>;
}

/**
 * The full `docker run` argument list Packer builds: devices, capabilities,
 * privileged, tmpfs and volumes first, then the rendered `run_command`.
 * (Packer also mounts its temporary directory; Kiln uploads through the API
 * and has none.)
 */
export function builderRunArgs(opts: BuilderRunOptions, runCommand: readonly string[]): string[] {
  const args: string[] = [];
  for (const d of opts.device ?? []) args.push('--device', d);
  for (const c of opts.cap_add ?? []) args.push('--cap-add', c);
  for (const c of opts.cap_drop ?? []) args.push('--cap-drop', c);
  if (opts.privileged) args.push('--privileged');
  for (const t of opts.tmpfs ?? []) args.push('--tmpfs', t);
  for (const [hostPath, containerPath] of Object.entries(opts.volumes ?? {})) args.push('-v', `${hostPath}:${containerPath}`);
  args.push(...runCommand);
  return args;
}
