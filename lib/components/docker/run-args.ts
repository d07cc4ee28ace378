import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type Docker from 'dockerode';
import { parseDuration } from '../../template/schema';

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
  'read-only': { kind: 'bool' },
  'oom-kill-disable': { kind: 'bool' },
  'entrypoint': { kind: 'value' },
  'env': { kind: 'value', short: 'e' },
  'env-file': { kind: 'value' },
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
  'add-host': { kind: 'value' },
  'dns': { kind: 'value' },
  'dns-search': { kind: 'value' },
  'dns-option': { kind: 'value' },
  'dns-opt': { kind: 'value' },
  'security-opt': { kind: 'value' },
  'group-add': { kind: 'value' },
  'ipc': { kind: 'value' },
  'pid': { kind: 'value' },
  'uts': { kind: 'value' },
  'userns': { kind: 'value' },
  'cgroupns': { kind: 'value' },
  'memory': { kind: 'value', short: 'm' },
  'memory-swap': { kind: 'value' },
  'memory-reservation': { kind: 'value' },
  'shm-size': { kind: 'value' },
  'cpus': { kind: 'value' },
  'cpu-shares': { kind: 'value', short: 'c' },
  'cpuset-cpus': { kind: 'value' },
  'pids-limit': { kind: 'value' },
  'ulimit': { kind: 'value' },
  'sysctl': { kind: 'value' },
  'expose': { kind: 'value' },
  'stop-signal': { kind: 'value' },
  'stop-timeout': { kind: 'value' },
  'log-driver': { kind: 'value' },
  'log-opt': { kind: 'value' },
  'mount': { kind: 'value' },
  'publish': { kind: 'value', short: 'p' },
  'publish-all': { kind: 'bool', short: 'P' },
  'platform': { kind: 'value' },
  'health-cmd': { kind: 'value' },
  'health-interval': { kind: 'value' },
  'health-timeout': { kind: 'value' },
  'health-start-period': { kind: 'value' },
  'health-retries': { kind: 'value' },
  'no-healthcheck': { kind: 'bool' },
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

/** The last value given for a flag (the CLI keeps the last one). */
function last(values: Record<string, string[]>, name: string): string | undefined {
  const v = values[name];
  return v ? v[v.length - 1] : undefined;
}

function invalid(flag: string, value: string, allowed: string): RunArgsError {
  return new RunArgsError(`run_command: invalid value ${JSON.stringify(value)} for --${flag}: ${allowed}`);
}

const UNITS: Readonly<Record<string, number>> = { '': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4, 'p': 1024 ** 5 };

/** A size as the CLI reads `--memory` and `--shm-size`: a number, then k, m, g, t or p (binary), an optional "b". */
function bytesOf(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m) throw invalid(flag, value, 'a size such as 512m or 2g');
  return Math.trunc(parseFloat(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]);
}

/** A whole number (int64 in the CLI). */
function integerOf(flag: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw invalid(flag, value, 'a whole number');
  return Number(value);
}

/** `--cpus`: a decimal number of CPUs, as billionths (no more precise than that). */
function nanoCpusOf(value: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(value);
  if (!m || (!m[1] && !m[2])) throw invalid('cpus', value, 'a number of CPUs such as 1.5');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > 9) throw invalid('cpus', value, 'at most nine decimal places');
  return Number(m[1] || '0') * 1e9 + Number(fraction.padEnd(9, '0'));
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** `--ulimit name=soft[:hard]` (hard defaults to soft). */
function ulimitOf(value: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
  if (!m) throw invalid('ulimit', value, 'name=soft[:hard], e.g. nofile=1024:2048');
  if (!ULIMITS.has(m[1])) throw invalid('ulimit', value, `a limit named one of ${[...ULIMITS].join(', ')}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) throw invalid('ulimit', value, 'a soft limit no higher than the hard one');
  return { Name: m[1], Soft: soft, Hard: hard };
}

/** `--add-host host:ip` or `host=ip` (IPv6 in brackets or not), stored as `host:ip`. */
function extraHostOf(value: string): string {
  let cut = value.indexOf('=');
  if (cut < 0) cut = value.indexOf(':');
  const host = cut < 0 ? '' : value.slice(0, cut);
  let ip = cut < 0 ? '' : value.slice(cut + 1);
  if (!host || host.includes(':')) throw invalid('add-host', value, 'host:ip or host=ip');
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (!net.isIP(ip)) throw invalid('add-host', value, 'host:ip or host=ip, with an IP address or host-gateway');
  }
  return `${host}:${ip}`;
}

/** `--expose port[-port][/protocol]`: every port of the range. */
function exposedOf(value: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/([a-z]+))?$/.exec(value);
  const start = m ? Number(m[1]) : NaN;
  const end = m?.[2] === undefined ? start : Number(m[2]);
  if (!m || !(start <= end) || end > 65535) throw invalid('expose', value, 'a port or range, e.g. 8080, 9000-9002/udp');
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${m[3] ?? 'tcp'}`);
  return ports;
}

/** `--security-opt`: as given, except that a seccomp profile file is sent as its (compacted) JSON, as the CLI does. */
function securityOptOf(value: string, cwd: string): string {
  let cut = value.indexOf('=');
  if (cut < 0 && value !== 'no-new-privileges') cut = value.indexOf(':');
  if ((cut < 0 || cut === value.length - 1) && value !== 'no-new-privileges') throw invalid('security-opt', value, 'key=value, or no-new-privileges');
  const key = value.slice(0, cut);
  const v = value.slice(cut + 1);
  if (key !== 'seccomp' || v === 'builtin' || v === 'unconfined') return value;
  let profile: string;
  try {
    profile = JSON.stringify(JSON.parse(fs.readFileSync(path.resolve(cwd, v), 'utf8')));
  } catch (e) {
    throw new RunArgsError(`run_command: --security-opt ${value}: ${(e as Error).message}`);
  }
  return `seccomp=${profile}`;
}

/**
 * The variables of an `--env-file`, as the CLI reads it: blank lines and
 * lines starting with # skipped, NAME=value kept as written, a bare NAME
 * taking the value it has here (and left out when it has none).
 */
function envFile(file: string, cwd: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (e) {
    throw new RunArgsError(`run_command: --env-file ${file}: ${(e as Error).message}`);
  }
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (/\s/.test(name)) throw new RunArgsError(`run_command: --env-file ${file}: variable '${name}' contains whitespaces`);
    if (!name) throw new RunArgsError(`run_command: --env-file ${file}: no variable name on line '${line}'`);
    if (eq >= 0) out.push(line);
    else if (process.env[name] !== undefined) out.push(`${name}=${process.env[name]}`);
  }
  return out;
}

/** `key=value` pairs into a map (`--sysctl`, `--log-opt`). */
function pairs(flag: string, list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw invalid(flag, kv, 'key=value');
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** A boolean option value as the CLI's mount reader takes it. */
function mountBool(spec: string, key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (['1', 'true', 'True', 'TRUE', 't', 'T'].includes(value)) return true;
  if (['0', 'false', 'False', 'FALSE', 'f', 'F'].includes(value)) return false;
  throw invalid('mount', spec, `${key} takes true or false`);
}

/** The fields of a comma-separated `--mount` value; a field may be quoted, as in a CSV line. */
function csvFields(spec: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (quoted && ch === '"' && spec[i + 1] === '"') {
      field += '"'; // a doubled quote inside quotes is one quote
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}

/**
 * `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,…]` as the
 * CLI reads it: a relative bind source is taken from the working directory,
 * options of one type cannot go with another.
 */
function mountOf(spec: string, cwd: string): Docker.MountSettings {
  // The engine's shape, with its optional parts optional (dockerode's type requires them all).
  const mount: { Type: string; Target: string; Source?: string; ReadOnly?: boolean; Consistency?: string; [option: string]: unknown } = { Type: 'volume', Target: '' };
  let bind: Record<string, unknown> | undefined;
  let volume: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig: { Name?: string; Options?: Record<string, string> } } | undefined;
  let tmpfs: { SizeBytes?: number; Mode?: number } | undefined;
  const kv = (key: string, value: string): [string, string] => {
    const eq = value.indexOf('=');
    if (eq <= 0) throw invalid('mount', spec, `${key} takes name=value`);
    return [value.slice(0, eq), value.slice(eq + 1)];
  };
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined && !['readonly', 'ro', 'volume-nocopy'].includes(key)) throw invalid('mount', spec, `the field "${field}" must be a key=value pair`);
    switch (key) {
      case 'type': mount.Type = value!; break;
      case 'source': case 'src': mount.Source = value; break;
      case 'target': case 'dst': case 'destination': mount.Target = value!; break;
      case 'readonly': case 'ro': mount.ReadOnly = mountBool(spec, key, value); break;
      case 'consistency': mount.Consistency = value; break;
      case 'bind-propagation': (bind ??= {}).Propagation = value; break;
      case 'volume-nocopy': (volume ??= { DriverConfig: {} }).NoCopy = mountBool(spec, key, value); break;
      case 'volume-label': {
        const [k, v] = kv(key, value!);
        ((volume ??= { DriverConfig: {} }).Labels ??= {})[k] = v;
        break;
      }
      case 'volume-driver': (volume ??= { DriverConfig: {} }).DriverConfig.Name = value; break;
      case 'volume-opt': {
        const [k, v] = kv(key, value!);
        ((volume ??= { DriverConfig: {} }).DriverConfig.Options ??= {})[k] = v;
        break;
      }
      case 'tmpfs-size': (tmpfs ??= {}).SizeBytes = bytesOf('mount', value!); break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(value!)) throw invalid('mount', spec, 'tmpfs-mode is an octal mode such as 1777');
        (tmpfs ??= {}).Mode = parseInt(value!, 8);
        break;
      }
      default: throw invalid('mount', spec, `an option named type, source, target, readonly, bind-propagation, volume-*, tmpfs-size or tmpfs-mode, not "${key}"`);
    }
  }
  if (!['bind', 'volume', 'tmpfs'].includes(mount.Type)) throw invalid('mount', spec, 'type is bind, volume or tmpfs');
  if (!mount.Target) throw invalid('mount', spec, 'a target');
  if (bind && mount.Type !== 'bind') throw invalid('mount', spec, `bind-* options need type=bind, not ${mount.Type}`);
  if (volume && mount.Type !== 'volume') throw invalid('mount', spec, `volume-* options need type=volume, not ${mount.Type}`);
  if (tmpfs && mount.Type !== 'tmpfs') throw invalid('mount', spec, `tmpfs-* options need type=tmpfs, not ${mount.Type}`);
  if (mount.Type === 'bind') {
    if (!mount.Source) throw invalid('mount', spec, 'a source for a bind mount');
    mount.Source = path.resolve(cwd, mount.Source);
  }
  if (bind) mount.BindOptions = bind;
  if (volume) mount.VolumeOptions = volume;
  if (tmpfs) mount.TmpfsOptions = tmpfs;
  return mount as unknown as Docker.MountSettings;
}

/** A port or a range of ports, `8000` or `8000-8010`. */
function portRange(spec: string, text: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const start = m ? Number(m[1]) : NaN;
  const end = m?.[2] === undefined ? start : Number(m[2]);
  if (!m || !(start <= end) || end > 65535) throw invalid('publish', spec, '[ip:][host port]:port[/protocol], with ports or ranges such as 8000-8010');
  return [start, end];
}

/** `-p [ip:][hostPort:]containerPort[/protocol]` (ranges too) into exposed ports and their bindings, as the CLI reads it. */
function publishOf(spec: string, exposed: Record<string, object>, bindings: Record<string, { HostIp: string; HostPort: string }[]>): void {
  if (spec.includes('=')) throw invalid('publish', spec, 'the short form [ip:][host port]:port[/protocol]; Kiln does not read the long form');
  const parts = spec.split(':');
  const portPart = parts[parts.length - 1];
  let ip = '';
  let host = '';
  if (parts.length === 2) {host = parts[0];} else if (parts.length >= 3) {
    ip = parts.slice(0, parts.length - 2).join(':');
    host = parts[parts.length - 2];
  }
  const slash = portPart.indexOf('/');
  const container = slash < 0 ? portPart : portPart.slice(0, slash);
  const proto = (slash < 0 ? 'tcp' : portPart.slice(slash + 1)).toLowerCase();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip && !net.isIP(ip)) throw invalid('publish', spec, 'a valid IP address before the host port');
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw invalid('publish', spec, 'the protocol tcp, udp or sctp');
  const [start, end] = portRange(spec, container);
  const [hostStart, hostEnd] = host ? portRange(spec, host) : [0, 0];
  if (host && end - start !== hostEnd - hostStart && end !== start) throw invalid('publish', spec, 'host and container ranges of the same length');
  for (let i = 0; i <= end - start; i++) {
    let hostPort = host ? String(hostStart + i) : '';
    // One container port and a range of host ports: the engine picks one of them.
    if (start === end && hostStart !== hostEnd) hostPort = `${hostPort}-${hostEnd}`;
    const port = `${start + i}/${proto}`;
    exposed[port] = {};
    (bindings[port] ??= []).push({ HostIp: ip, HostPort: hostPort });
  }
}

/** `--health-*` and `--no-healthcheck` into the container's health check (the committed image keeps it), as the CLI does. */
function healthOf(values: Record<string, string[]>, noHealthcheck: boolean): Record<string, unknown> | undefined {
  const durations: [string, string][] = [['health-interval', 'Interval'], ['health-timeout', 'Timeout'], ['health-start-period', 'StartPeriod']];
  const health: Record<string, unknown> = {};
  const cmd = last(values, 'health-cmd');
  if (cmd) health.Test = ['CMD-SHELL', cmd];
  for (const [flag, key] of durations) {
    const v = last(values, flag);
    if (v === undefined) continue;
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch {
      throw invalid(flag, v, 'a duration such as 30s or 1m30s');
    }
    if (ms < 0) throw invalid(flag, v, 'a duration that is not negative');
    if (ms > 0) health[key] = Math.round(ms * 1e6);
  }
  const retries = last(values, 'health-retries');
  if (retries !== undefined) {
    const n = integerOf('health-retries', retries);
    if (n < 0) throw invalid('health-retries', retries, 'a count that is not negative');
    if (n > 0) health.Retries = n;
  }
  const settings = Object.keys(health).length > 0;
  if (noHealthcheck) {
    if (settings) throw new RunArgsError('run_command: --no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  return settings ? health : undefined;
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
  const entrypoint = last(values, 'entrypoint');
  // The CLI resets the image's entrypoint when the flag is given empty.
  if (entrypoint !== undefined) create.Entrypoint = [entrypoint];
  // The CLI puts the variables of --env-file first, then those of -e.
  const env = [
    ...(values['env-file'] ?? []).flatMap((f) => envFile(f, cwd)),
    ...(values.env ?? []).map((e) => {
      if (e.includes('=')) return e;
      const fromHost = process.env[e];
      return fromHost === undefined ? e : `${e}=${fromHost}`;
    }),
  ];
  if (env.length) create.Env = env;
  const exposed: Record<string, object> = {};
  for (const p of (values.expose ?? []).flatMap(exposedOf)) exposed[p] = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of values.publish ?? []) publishOf(p, exposed, bindings);
  if (Object.keys(exposed).length) create.ExposedPorts = exposed;
  const health = healthOf(values, bools['no-healthcheck'] ?? false);
  if (health) create.Healthcheck = health as Docker.HealthConfig;
  const platform = last(values, 'platform');
  // Sent as the create request's `platform` parameter.
  if (platform !== undefined) (create as { platform?: string }).platform = platform;
  const stopSignal = last(values, 'stop-signal');
  if (stopSignal !== undefined) create.StopSignal = stopSignal;
  const stopTimeout = last(values, 'stop-timeout');
  if (stopTimeout !== undefined) (create as { StopTimeout?: number }).StopTimeout = integerOf('stop-timeout', stopTimeout);
  const user = last(values, 'user');
  if (user !== undefined) create.User = user;
  const workdir = last(values, 'workdir');
  if (workdir !== undefined) create.WorkingDir = workdir;
  const hostname = last(values, 'hostname');
  if (hostname !== undefined) create.Hostname = hostname;
  const name = last(values, 'name');
  if (name !== undefined) create.name = name;
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
  if (bools['read-only'] !== undefined) host.ReadonlyRootfs = bools['read-only'];
  if (bools['oom-kill-disable'] !== undefined) host.OomKillDisable = bools['oom-kill-disable'];
  if (values['add-host']) host.ExtraHosts = values['add-host'].map(extraHostOf);
  if (values.dns) {
    for (const d of values.dns) if (!net.isIP(d)) throw invalid('dns', d, 'an IP address');
    host.Dns = [...values.dns];
  }
  if (values['dns-search']) host.DnsSearch = [...values['dns-search']];
  const dnsOptions = [...(values['dns-option'] ?? []), ...(values['dns-opt'] ?? [])];
  if (dnsOptions.length) host.DnsOptions = dnsOptions;
  if (values['security-opt']) host.SecurityOpt = values['security-opt'].map((o) => securityOptOf(o, cwd));
  if (values['group-add']) host.GroupAdd = [...values['group-add']];
  const modes: [string, string][] = [['ipc', 'IpcMode'], ['pid', 'PidMode'], ['uts', 'UTSMode'], ['userns', 'UsernsMode'], ['cgroupns', 'CgroupnsMode']];
  for (const [flag, key] of modes) {
    const v = last(values, flag);
    if (v !== undefined) (host as Record<string, unknown>)[key] = v;
  }
  const memory = last(values, 'memory');
  if (memory !== undefined) host.Memory = bytesOf('memory', memory);
  const swap = last(values, 'memory-swap');
  if (swap !== undefined) host.MemorySwap = swap === '-1' ? -1 : bytesOf('memory-swap', swap);
  const reservation = last(values, 'memory-reservation');
  if (reservation !== undefined) host.MemoryReservation = bytesOf('memory-reservation', reservation);
  const shm = last(values, 'shm-size');
  if (shm !== undefined) host.ShmSize = bytesOf('shm-size', shm);
  const cpus = last(values, 'cpus');
  if (cpus !== undefined) host.NanoCpus = nanoCpusOf(cpus);
  const shares = last(values, 'cpu-shares');
  if (shares !== undefined) host.CpuShares = integerOf('cpu-shares', shares);
  const cpuset = last(values, 'cpuset-cpus');
  if (cpuset !== undefined) host.CpusetCpus = cpuset;
  const pids = last(values, 'pids-limit');
  if (pids !== undefined) host.PidsLimit = integerOf('pids-limit', pids);
  if (values.ulimit) host.Ulimits = values.ulimit.map(ulimitOf);
  if (values.sysctl) host.Sysctls = pairs('sysctl', values.sysctl);
  const logDriver = last(values, 'log-driver');
  if (logDriver !== undefined || values['log-opt']) {
    host.LogConfig = { Type: logDriver ?? '', Config: pairs('log-opt', values['log-opt'] ?? []) } as Docker.HostConfig['LogConfig'];
  }
  if (values.mount) host.Mounts = values.mount.map((m) => mountOf(m, cwd));
  if (Object.keys(bindings).length) host.PortBindings = bindings;
  if (bools['publish-all'] !== undefined) host.PublishAllPorts = bools['publish-all'];
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
