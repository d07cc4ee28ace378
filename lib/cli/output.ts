/**
 * Where commands write. Every line passes through the secret filter, so a
 * sensitive value never reaches the terminal, a log or machine-readable output.
 */
export class Output {
  private secrets: string[] = [];

  constructor(
    private readonly stdout: (text: string) => void = (t) => process.stdout.write(t),
    private readonly stderr: (text: string) => void = (t) => process.stderr.write(t),
  ) {}

  /** Adds values to mask; longer values are replaced first so a secret inside another is masked whole. */
  public addSecrets(values: Iterable<string>): void {
    for (const v of values) if (v && !this.secrets.includes(v)) this.secrets.push(v);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  public mask(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('<sensitive>');
    return out;
  }

  public out(text = ''): void {
    this.stdout(this.mask(text) + '\n');
  }

  public err(text = ''): void {
    this.stderr(this.mask(text) + '\n');
  }
}
