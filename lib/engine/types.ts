import type { Readable, Writable } from 'stream';
import type { InterpolateContext } from '../template/interpolate';
import type { PreparedBuild } from '../template/prepare';

/**
 * The contracts between the engine and the components it runs. The engine
 * knows components only through these interfaces; each component folder
 * provides a runtime that implements one of them.
 */

/** Where a build's components write what they have to say; every line is prefixed with the build name. */
export interface BuildUi {
  /** A step announcement: `==> web: Committing the container`. */
  say(text: string): void;
  /** Output and details: `    web: Image ID: sha256:…`. */
  message(text: string): void;
  /** Errors and remote stderr: `==> web: …` (red when colour is on). */
  error(text: string): void;
  /** The same UI with a different prefix, e.g. `web (compress)` for a post-processor. */
  withPrefix(prefix: string): BuildUi;
  /** Asks a question on the terminal; rejects when there is none, or when `signal` aborts. */
  ask(question: string, signal?: AbortSignal): Promise<string>;
}

/** The result of a build or of a post-processor: an image, files, ids. */
export interface Artifact {
  /** Which component made it, as in Packer (`packer.docker`, `packer.post-processor.docker-import`). */
  readonly builderId: string;
  readonly id: string;
  readonly files: readonly string[];
  /** Extra data, e.g. `generated_data` for post-processors, `docker_tags`. */
  readonly state: Readonly<Record<string, unknown>>;
  /** The line shown in the final summary. */
  describe(): string;
  /** Removes what the artifact stands for (an image, files) when no chain keeps it. */
  destroy(): Promise<void>;
}

/** Runs commands and moves files on the machine being built. */
export interface Communicator {
  /** True when `upload` writes the file with exactly `info.mode`. */
  readonly uploadSetsMode?: boolean;
  /**
   * True when `exec` runs commands as root, so that a chmod of a file it
   * uploaded cannot fail. With `uploadSetsMode`, uploading a file with a mode
   * then equals uploading it and running chmod, and a provisioner may save
   * that command.
   */
  readonly commandsRunAsRoot?: boolean;
  /** Runs a shell command; resolves to its exit code. Output is delivered as it comes, by line. */
  exec(command: string, io: ExecIo): Promise<number>;
  /** Writes one file at `dst` from a stream. */
  upload(dst: string, src: Readable, info: { size?: number; mode?: number }): Promise<void>;
  /** Copies a local directory: its contents when `src` ends with `/`, else the directory itself into `dst`. */
  uploadDir(dst: string, src: string): Promise<void>;
  /** Streams one remote file into `dst`. */
  download(src: string, dst: Writable): Promise<void>;
  /** Copies a remote directory to a local path. */
  downloadDir(src: string, dst: string): Promise<void>;
}

export interface ExecIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  readonly stdin?: Readable;
  readonly signal?: AbortSignal;
}

/** A resource cleanup; cleanups run in reverse order of registration. */
export interface Cleanups {
  /** Registers the undo of something just created; `what` is shown if cleanup is interrupted. */
  defer(what: string, undo: () => Promise<void> | void): void;
}

/** Shared by everything that runs inside one build. */
export interface BuildEnvironment {
  readonly build: PreparedBuild;
  /** Unique id of this `kiln build` run; labels every container (`kiln.run`). */
  readonly runId: string;
  readonly ui: BuildUi;
  readonly signal: AbortSignal;
  readonly cleanups: Cleanups;
  /** Rendering context for run-time fields: user variables, build name and type. */
  readonly interpolation: Omit<InterpolateContext, 'stage' | 'data'>;
  /** The `-force` flag. */
  readonly force: boolean;
  /**
   * The run's journal, when there is one: a component records a partly written
   * file here (and removes it once renamed or deleted) so that `kiln cleanup`
   * can remove it if the process is killed outright.
   */
  readonly journal?: {
    add(kind: 'dir' | 'file', path: string): void;
    remove(kind: 'dir' | 'file', path: string): void;
  };
  /** Creates a private temporary directory that is removed when the build ends. */
  tempDir(purpose: string): Promise<string>;
}

/** The data a builder hands to provisioners and post-processors (`{{ build `ID` }}`). */
export type GeneratedData = Readonly<Record<string, unknown>>;

export interface BuilderRuntime {
  /**
   * Creates the machine, calls `provision` once it is reachable, then turns it
   * into an artifact. Everything it creates is registered with `env.cleanups`.
   */
  run(env: BuildEnvironment, config: Readonly<Record<string, unknown>>, provision: ProvisionHook): Promise<Artifact | undefined>;
}

export type ProvisionHook = (communicator: Communicator | undefined, data: GeneratedData) => Promise<void>;

export interface ProvisionerRuntime {
  provision(
    env: BuildEnvironment,
    config: Readonly<Record<string, unknown>>,
    communicator: Communicator | undefined,
    data: GeneratedData,
  ): Promise<void>;
}

export interface PostProcessResult {
  readonly artifact: Artifact | undefined;
  /** Whether the input artifact is kept by default. */
  readonly keep: boolean;
  /** When true, the user's `keep_input_artifact: false` cannot discard the input. */
  readonly forceKeep: boolean;
}

export interface PostProcessorRuntime {
  postProcess(env: BuildEnvironment, config: Readonly<Record<string, unknown>>, input: Artifact): Promise<PostProcessResult>;
}

/** What a component folder's `runtime.ts` exports. */
export interface ComponentRuntimes {
  readonly builder?: BuilderRuntime;
  readonly provisioner?: ProvisionerRuntime;
  readonly postProcessor?: PostProcessorRuntime;
}
