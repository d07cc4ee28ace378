import { BuildUi } from './types';

/**
 * Turns UI events into the lines a user sees, in Packer's layout: `==> name: `
 * for announcements and errors, `    name: ` for output, one prefix per line.
 * Lines from parallel builds interleave whole, never mid-line. Every line goes
 * through `mask`, machine-readable output included.
 */

export interface PrinterOptions {
  readonly write: (text: string) => void;
  readonly mask: (text: string) => string;
  readonly color: boolean;
  readonly timestamps: boolean;
  readonly machineReadable: boolean;
  /** Answers a question on the terminal; undefined when there is none. Gives up when `signal` aborts. */
  readonly ask?: (question: string, signal?: AbortSignal) => Promise<string>;
}

const COLORS = ['\x1b[1;32m', '\x1b[1;36m', '\x1b[1;35m', '\x1b[1;33m', '\x1b[1;34m'];
const RED = '\x1b[1;31m';
const RESET = '\x1b[0m';

/** Packer's escaping of machine-readable data. */
export function machineEscape(s: string): string {
  return s.replace(/,/g, '%!(PACKER_COMMA)').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

export class Printer {
  private readonly colorOf = new Map<string, string>();

  constructor(private readonly opts: PrinterOptions) {}

  public get machineReadable(): boolean {
    return this.opts.machineReadable;
  }

  /** A UI for one build; `name` is the prefix and picks the build's colour. */
  public forBuild(name: string): BuildUi {
    if (!this.colorOf.has(name)) this.colorOf.set(name, COLORS[this.colorOf.size % COLORS.length]);
    return this.ui(name, this.colorOf.get(name)!);
  }

  /** A plain line with no build prefix. */
  public line(text: string, kind: 'say' | 'message' | 'error' = 'message'): void {
    const masked = this.opts.mask(text);
    if (this.opts.machineReadable) {
      this.emit(`${Math.floor(Date.now() / 1000)},,ui,${kind},${machineEscape(masked)}`);
      return;
    }
    this.emit(kind === 'error' && this.opts.color ? `${RED}${masked}${RESET}` : masked);
  }

  /** A machine-readable record (`target,type,data...`); nothing in human mode. */
  public machine(target: string, type: string, ...data: string[]): void {
    if (!this.opts.machineReadable) return;
    const fields = [target, type, ...data.map((d) => machineEscape(this.opts.mask(d)))];
    this.emit(`${Math.floor(Date.now() / 1000)},${fields.join(',')}`);
  }

  private emit(line: string): void {
    this.opts.write(line + '\n');
  }

  private ui(prefix: string, color: string): BuildUi {
    const out = (kind: 'say' | 'message' | 'error', text: string) => {
      const lead = kind === 'message' ? `    ${prefix}: ` : `==> ${prefix}: `;
      const lines = this.opts.mask(String(text)).split('\n');
      const chunk: string[] = [];
      for (const l of lines) {
        const body = (lead + l).trimEnd();
        if (this.opts.machineReadable) {
          chunk.push(`${Math.floor(Date.now() / 1000)},,ui,${kind},${machineEscape(body)}`);
          continue;
        }
        // As Packer: the local time in RFC 3339 (to the second), inside the line's colour.
        let shown = this.opts.timestamps ? `${rfc3339(new Date())}: ${body}` : body;
        if (this.opts.color) shown = kind === 'error' ? `${RED}${shown}${RESET}` : kind === 'say' ? `${color}${shown}${RESET}` : `${color.replace('1;', '')}${shown}${RESET}`;
        chunk.push(shown);
      }
      this.opts.write(chunk.join('\n') + '\n');
    };
    return {
      say: (t) => out('say', t),
      message: (t) => out('message', t),
      error: (t) => out('error', t),
      withPrefix: (p) => this.ui(p, color),
      ask: async (q, signal) => {
        if (!this.opts.ask || this.opts.machineReadable) throw new Error('no terminal to ask on');
        return this.opts.ask(this.opts.mask(`==> ${prefix}: ${q}`), signal);
      },
    };
  }
}

/** Packer's duration style: the two largest units, e.g. `4 seconds 202 milliseconds`. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [['hour', 3_600_000], ['minute', 60_000], ['second', 1000], ['millisecond', 1], ['microsecond', 0.001]];
  const parts: string[] = [];
  let rest = ms;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size + 1e-9);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
      rest -= n * size;
    }
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : '0 seconds';
}

/** `d` as Go's time.RFC3339 in the local time zone: seconds, and Z or the offset from UTC. */
export function rfc3339(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${zone}`;
}
