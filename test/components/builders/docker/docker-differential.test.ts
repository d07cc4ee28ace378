import * as fs from 'fs';
import { ImageReport, PACKER, SideRun, differentialSuite, inAnyOrder } from './differential/harness';

/*
 * Differential tests of the docker builder: each template under
 * differential/fixtures/ is built by `kiln build` and by the real
 * `packer build` (1.6.6, /usr/bin/packer or $PACKER_BIN), each side in a
 * fresh copy of the fixture with its own repository name (`-var repo=…`),
 * and `toMatchPacker` compares what a user gets: the exit status, the lines
 * each build printed, the artifact and error summary, every image made or
 * tagged (tags, config, history, file tree with modes, owners and content),
 * and every file left in the directory (exports and `docker save` archives
 * opened). See differential/harness.ts for how, and for the hygiene checks
 * (no container or image of a Kiln run left, Packer's leftovers removed,
 * every image of both sides removed after the tests).
 *
 * Accepted differences, normalised by the harness for every template:
 * - Kiln has no shared temporary directory: Packer prints "Creating a
 *   temporary directory for sharing data...", its `Run command:` line has a
 *   `-v <tmp>:<container_dir>` pair, and the (empty) mount point
 *   `container_dir` (default /packer-files, with any parent it had to
 *   create) is in its images, exports and saved layers. When the mount point
 *   was the only change, Packer's commit has a layer where Kiln's is empty.
 * - Committed images have an empty Parent with Kiln, which writes the image
 *   config again to drop its own container labels; Packer's name the base
 *   image.
 * - Error texts quote the engine's messages: where Packer quotes the docker
 *   CLI ("Docker exited with a non-zero exit status. Stderr: docker: Error
 *   response from daemon: <message> … Run 'docker run --help' …", or "exit
 *   status 1 Stderr: Error response from daemon: <message>"), Kiln says
 *   "<message>".
 *
 * Differences recorded per test (each side asserted):
 * - Packer bug: `pty: true` never works. Packer runs `docker exec -i -t` with
 *   a pipe as the CLI's stdin, which refuses it ("the input device is not a
 *   TTY"); Kiln's exec gets a terminal.
 * - Packer limitation: downloading a directory ("DownloadDir is not
 *   implemented for docker"); Kiln copies it, as scp does.
 * - Kiln says when a post-processor that must keep its input ignores
 *   `keep_input_artifact: false` (Packer writes that only to its debug log).
 * - Kiln limitation: run_command options outside the set Kiln reads into
 *   Engine API options (here `--restart`) fail the build; Packer hands them
 *   to `docker run`.
 * - The docker CLI Packer runs (28.x here) passes `-e` variables to the
 *   engine in map order, so the Env of Packer's image varies from run to run;
 *   Kiln keeps the command line's order.
 *
 * Packer quirks Kiln reproduces on purpose (no difference): several download
 * sources into a trailing-slash directory overwrite one another (a Packer
 * bug); `{{.Path}}` in an inline command renders as `<no value>`; docker-save
 * and shell-local pass their input on, so it is listed twice; docker-tag's
 * artifact carries no build data, so `{{build `ImageSha256`}}` after it is
 * `<no value>` in inline commands and an error in execute_command.
 *
 * Environment: on some engines (this CI machine's) a privileged container
 * cannot start ("unable to apply caps"); the privileged test holds either way.
 */

const differential = fs.existsSync(PACKER) ? describe : describe.skip;

// A test waits for its fixture's two builds, each killed after 100 s if it hangs; normally a few seconds.
jest.setTimeout(300_000);

/** The report of an image a run made (or failed to remove). */
function image(run: SideRun, key = '<image:docker>'): ImageReport {
  const found = run.report.images[key];
  if (!found || found === 'removed') throw new Error(`${run.side} has no image ${key}: ${Object.keys(run.report.images).join(', ')}`);
  return found;
}

const KEEP_IGNORED = '(docker-tag) The docker-tag post-processor needs its input artifact, so keep_input_artifact: false is ignored';

differential('docker builds: Kiln makes the images and artifacts Packer 1.6.6 makes', () => {
  const suite = differentialSuite();

  describe('the docker builder', () => {
    const commitChanges = suite.fixture('commit-changes');
    test('commit applies every kind of change, the author and the message, and keeps the provisioned files', async () => {
      const { kiln, packer } = await commitChanges();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer)).toMatchObject({
        author: 'Kiln Differential <diff@example.com>',
        comment: 'built for the differential test',
        tags: ['<repo>:latest'],
        config: {
          Env: ['PLAIN=value', 'QUOTED=two words', 'SINGLE=$NOT_EXPANDED', 'LEGACY=legacy form value'],
          Labels: { 'org.example.team': 'web', 'with space': 'a b', 'empty': '', 'second': 'label' },
          ExposedPorts: { '80/tcp': {}, '443/udp': {}, '8080/tcp': {} },
          WorkingDir: '/srv/app',
          User: 'nobody',
          Cmd: ['/bin/echo', 'hi'],
          Entrypoint: ['/bin/sh', '-c'],
          Volumes: { '/data': {}, '/cache': {} },
          OnBuild: ['RUN echo onbuild', 'ENV CHILD=1'],
        },
      });
      expect(image(packer).tree).toMatchObject({ 'bin/vi': '<deleted>', 'made-link': 'symlink 0777 0:0 -> /srv/app/made.txt' });
    });

    const shellForm = suite.fixture('commit-shell-form');
    test('commit with shell-form CMD and ENTRYPOINT, ENV referring to ENV, a numeric USER and a relative WORKDIR', async () => {
      const { kiln, packer } = await shellForm();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).config).toMatchObject({
        Cmd: ['/bin/sh', '-c', 'echo hello "world"'],
        Entrypoint: ['/bin/sh', '-c', 'exec /bin/sh -c'],
        Env: ['BASE=/opt', 'TOOLS=/opt/tools', 'PATH=/opt/bin:'],
        WorkingDir: '/work/relative',
      });
    });

    const discard = suite.fixture('discard');
    test('discard makes no image and hands post-processors the container id but no image id', async () => {
      const { kiln, packer } = await discard();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.images).toEqual({});
      expect(packer.report.summary).toContain('--> docker: Exported Docker file: ');
      expect(packer.report.files['discard-data.txt']).toEqual({ mode: '0644', text: 'ID=<container:docker>\nImageSha256=<no value>\nConnType=docker\n' });
    });

    const exportPath = suite.fixture('export-path');
    test('export_path writes the container\'s file system as a tar, creating its directories', async () => {
      const { kiln, packer } = await exportPath();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files['out/nested/rootfs.tar']).toMatchObject({
        mode: '0644',
        tar: { tree: expect.objectContaining({ 'exported/dir/file.txt': 'file 0600 0:0 "exported\\n"', 'bin/ls': '<deleted>' }) },
      });
    });

    const runOptions = suite.fixture('run-command-options');
    test('run_command: env, workdir, user, hostname and entrypoint in every spelling reach the container and the image', async () => {
      const { kiln, packer } = await runOptions();
      const env = ['FROM_RUN=hi there', 'SECOND=2', 'GLUED=yes'];
      expect(kiln).toMatchPacker(packer, {
        differences: [{
          at: ['images', '<image:docker>', 'config', 'Env'],
          reason: 'the docker CLI Packer runs (28.x here) passes -e variables in map order, which varies from run to run; Kiln keeps the command line\'s order',
          packer: inAnyOrder(env),
          kiln: env,
        }],
      });
      expect(image(packer).config).toMatchObject({ WorkingDir: '/srv/work', User: '0:0', Hostname: 'builder-host' });
      expect(image(packer).tree['srv/work/facts.txt']).toBe('file 0644 0:0 "/srv/work\\nhi there|2|yes\\nbuilder-host\\nuid=0(root) gid=0(root) groups=0(root)\\n"');
    });

    const runUser = suite.fixture('run-command-user');
    test('run_command with a non-root user: commands run as that user and uploads are given to it', async () => {
      const { kiln, packer } = await runUser();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({ 'tmp/upload.txt': 'file 0644 1000:1000 "uploaded for user 1000\\n"', 'tmp/dir/sub/inside.txt': 'file 0644 1000:1000 "inside\\n"' });
    });

    const volumes = suite.fixture('volumes');
    test('volumes bind host directories, read-write and read-only', async () => {
      const { kiln, packer } = await volumes();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files['shared/from-container.txt']).toEqual({ mode: '0644', text: 'from-container\n' });
      expect(image(packer, '<image:readonly>').tree['ro-check.txt']).toBe('file 0644 0:0 "read-only\\n"');
    });

    const privileged = suite.fixture('privileged');
    test('privileged (next to an unprivileged build of the same template)', async () => {
      const { kiln, packer } = await privileged();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer, '<image:plain>').tree['mount.txt']).toBe('file 0644 0:0 "refused\\n"');
    });

    const capabilities = suite.fixture('capabilities');
    test('cap_add, cap_drop, tmpfs and device', async () => {
      const { kiln, packer } = await capabilities();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({ 'scratch-mount.txt': 'file 0644 0:0 "tmpfs /scratch tmpfs\\n"', 'device.txt': 'file 0644 0:0 " 00 00 00 00\\n"' });
      expect(image(packer).tree['scratch/lost.txt']).toBeUndefined();
    });

    const execUser = suite.fixture('exec-user');
    test('exec_user root on an image whose USER is not root; uploads still go to the image\'s user', async () => {
      const { kiln, packer } = await execUser();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'exec-id.txt': 'file 0644 0:0 "uid=0(root) gid=0(root) groups=0(root)\\n"',
        'opt/app/config.txt': 'file 0644 1000:0 "key=value\\n"',
      });
    });

    const fixOwner = suite.fixture('fix-upload-owner');
    test('fix_upload_owner gives every uploaded file and directory to the image\'s user', async () => {
      const { kiln, packer } = await fixOwner();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'home/builder/single.txt': 'file 0644 1000:0 "single\\n"',
        'home/builder/existing/tree/nested/deep.txt': 'file 0644 1000:0 "nested\\n"',
        'home/builder/fresh/top.txt': 'file 0644 1000:0 "top\\n"',
      });
    });

    const keepOwner = suite.fixture('fix-upload-owner-false');
    test('fix_upload_owner false leaves uploads to root', async () => {
      const { kiln, packer } = await keepOwner();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree['home/builder/owners.txt']).toBe('file 0644 0:0 "0:0 single.txt\\n0:0 tree\\n"');
    });

    const denied = suite.fixture('fix-upload-owner-false-denied');
    test('fix_upload_owner false with a non-root image user: the uploaded script cannot run and the build fails', async () => {
      const { kiln, packer } = await denied();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.exitCode).toBe(1);
      expect(packer.report.summary).toContain('--> docker: Script exited with non-zero exit status: 126.Allowed exit codes are: [0]');
    });

    const containerDir = suite.fixture('container-dir');
    test('container_dir only moves Packer\'s mount point', async () => {
      const { kiln, packer } = await containerDir();
      expect(kiln).toMatchPacker(packer);
      expect(packer.containerDirs).toEqual(['/opt/packer-stage']);
      expect(image(packer).tree['opt/packer-stage']).toBe('directory 0755 0:0');
    });

    const hostOptions = suite.fixture('run-command-host-options');
    test('run_command options read into Engine API options: the container and the image are as with docker run', async () => {
      const { kiln, packer } = await hostOptions();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'hosts-entry.txt': 'file 0644 0:0 "10.1.2.3\\tkiln.example\\n"',
        'nofile.txt': 'file 0644 0:0 "1024\\n"',
        'shm-kib.txt': 'file 0644 0:0 "32768\\n"',
        'scratch-mount.txt': 'file 0644 0:0 "/scratch tmpfs\\n"',
      });
      // -p and --expose ports, and the health check, are part of the committed image's config (the same on both sides).
      expect(image(packer).config).toMatchObject({
        ExposedPorts: { '80/tcp': {}, '8080/tcp': {}, '9000/udp': {}, '9001/udp': {} },
        Healthcheck: { Test: ['CMD-SHELL', 'test -e /hosts-entry.txt'], Interval: 30_000_000_000 },
      });
    });

    const unsupported = suite.fixture('run-command-unsupported');
    test('run_command with a docker run option Kiln does not read: Kiln refuses it, Packer passes it on', async () => {
      const { kiln, packer } = await unsupported();
      const reason = 'Kiln limitation: run_command is read into Engine API options, and only some docker run options are understood';
      expect(kiln).toMatchPacker(packer, {
        differences: [{
          at: [],
          reason,
          packer: expect.objectContaining({
            exitCode: 0,
            images: { '<image:docker>': expect.objectContaining({ tree: { 'provisioned.txt': 'file 0644 0:0 "yes\\n"' } }) },
          }),
          kiln: expect.objectContaining({
            exitCode: 1,
            images: {},
            summary: expect.arrayContaining([expect.stringMatching(/^--> docker: Error running container: run_command: Kiln does not support the docker run option "--restart"; it understands /)]),
          }),
        }],
      });
    });

    const commitError = suite.fixture('commit-error');
    test('a change the engine refuses at commit (MAINTAINER) fails the build after provisioning; the error-cleanup-provisioner runs', async () => {
      const { kiln, packer } = await commitError();
      expect(kiln).toMatchPacker(packer);
      expect(kiln.report.files['cleanup-ran.txt']).toEqual({ mode: '0644', text: 'cleanup for docker\n' });
      expect(packer.report.summary).toContain('--> docker: Error committing container: maintainer is not a valid change command');
      expect(packer.report.images).toEqual({});
    });

    const pty = suite.fixture('pty');
    test('pty: Kiln runs the commands on a terminal; Packer\'s docker exec refuses', async () => {
      const { kiln, packer } = await pty();
      expect(kiln).toMatchPacker(packer, {
        differences: [{
          at: [],
          reason: 'Packer bug: it runs `docker exec -i -t` with a pipe as the CLI\'s stdin, so `pty: true` fails whatever the terminal',
          packer: expect.objectContaining({
            exitCode: 1,
            builds: { docker: expect.objectContaining({ say: expect.arrayContaining(['the input device is not a TTY']) }) },
            images: {},
          }),
          kiln: expect.objectContaining({
            exitCode: 0,
            builds: { docker: expect.objectContaining({ message: expect.arrayContaining(['stdout is a terminal', 'line one', 'to-stderr', 'line two']) }) },
            images: { '<image:docker>': expect.objectContaining({ tree: { 'tty.txt': 'file 0644 0:0 "terminal\\n"' } }) },
          }),
        }],
      });
    });

    const none = suite.fixture('communicator-none');
    test('communicator none: no connection, but shell-local sees the container and the commit', async () => {
      const { kiln, packer } = await none();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files['none-data.txt']).toEqual({ mode: '0644', text: 'ID=<container:docker> ConnType=<no value> Host=<no value> Port=<no value>\n' });
    });
  });

  describe('the shell provisioner', () => {
    const envVars = suite.fixture('shell-env-vars');
    test('environment_vars keep quotes, dollars, spaces and equals signs; env_var_format and {{.Vars}}', async () => {
      const { kiln, packer } = await envVars();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree['env.txt']).toBe('file 0644 0:0 "PLAIN=[plain]\\nSPACES=[has  two  spaces]\\nQUOTES=[it\'s \\"quoted\\"]\\n'
        + 'DOLLAR=[$HOME and ${PATH} and $(echo not-run)]\\nEQ=[a=b=c]\\nEMPTY=[]\\nBACKSLASH=[back\\\\slash]\\n'
        + 'TEMPLATE=[it\'s me in docker/docker]\\nNAME=[docker]\\nTYPE=[docker]\\n"');
    });

    const executeCommand = suite.fixture('shell-execute-command');
    test('execute_command with {{.Vars}}, {{.Path}} and arguments; one that never runs the script', async () => {
      const { kiln, packer } = await executeCommand();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'args.txt': 'file 0644 0:0 "hello world: 3 args: [one] [two words] [/root]\\n"',
        'path-seen.txt': 'file 0644 0:0 "/tmp/script_.sh\\n"',
      });
      expect(image(packer).tree['not-run.txt']).toBeUndefined();
    });

    const shebang = suite.fixture('shell-inline-shebang');
    test('inline_shebang, and `sh {{.Path}}` ignoring it ({{.Path}} in an inline line is <no value>)', async () => {
      const { kiln, packer } = await shebang();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'shebang-traced.txt': 'file 0644 0:0 "#!/bin/sh -x\\n"',
        'after-false.txt': 'file 0644 0:0 "sh <no value> ignores the shebang and its -e\\n"',
      });
    });

    const scripts = suite.fixture('shell-scripts');
    test('script and scripts run in order from the same remote path', async () => {
      const { kiln, packer } = await scripts();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree['order.txt']).toBe('file 0644 0:0 "first one script_.sh\\nsecond many\\nthird many\\n"');
    });

    const remotePaths = suite.fixture('shell-remote-paths');
    test('remote_folder, remote_file, remote_path and skip_clean decide what stays in the image', async () => {
      const { kiln, packer } = await remotePaths();
      expect(kiln).toMatchPacker(packer);
      expect(Object.keys(image(packer).tree).filter((p) => p.startsWith('opt/scripts/')).sort())
        .toEqual(['opt/scripts/exact.sh', 'opt/scripts/named.sh', 'opt/scripts/varfile_<n>.sh', 'opt/scripts/with-vars.sh']);
    });

    const crlf = suite.fixture('shell-binary-crlf', { crlf: ['scripts/crlf.sh', 'scripts/raw.sh'] });
    test('a CRLF script is uploaded with LF line ends, unless binary', async () => {
      const { kiln, packer } = await crlf();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'raw.sh': 'file 0755 0:0 "echo binary > /binary.txt\\r\\n"',
        '"binary.txt\\r"': 'file 0644 0:0 "binary\\n"',
        'converted.txt': 'file 0644 0:0 "converted\\n"',
      });
    });

    const exitCodes = suite.fixture('shell-exit-codes');
    test('valid_exit_codes, as a list and as a comma string', async () => {
      const { kiln, packer } = await exitCodes();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.exitCode).toBe(0);
      expect(Object.keys(image(kiln).tree).sort()).toEqual(['after.txt', 'before.txt', 'five.txt']);
    });

    const varFile = suite.fixture('shell-env-var-file');
    test('use_env_var_file: the variables come from an uploaded 0600 file', async () => {
      const { kiln, packer } = await varFile();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'from-var-file.txt': 'file 0644 0:0 "it\'s here|a b  c|$HOME|docker\\n"',
        'var-file-mode.txt': 'file 0644 0:0 "-rw-------\\n"',
      });
    });

    const failing = suite.fixture('failing-provisioner');
    test('a provisioner exiting 7 fails the build: cleanup provisioner, no image, no container, no tag', async () => {
      const { kiln, packer } = await failing();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.exitCode).toBe(1);
      expect(packer.report.images).toEqual({});
      expect(packer.report.files['cleanup-ran.txt']).toEqual({ mode: '0644', text: 'cleanup for docker\n' });
      expect(packer.report.summary).toContain('--> docker: Script exited with non-zero exit status: 7.Allowed exit codes are: [0]');
    });
  });

  describe('the file provisioner', () => {
    const upload = suite.fixture('file-upload', { modes: { 'files/secret.txt': 0o600, 'tree/private': 0o700 } });
    test('uploads follow the trailing-slash rules and keep modes and symlinks; sources and source together', async () => {
      const { kiln, packer } = await upload();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree).toMatchObject({
        'd/secret.txt': 'file 0600 0:0 "secret\\n"',
        'existing/tree/private': 'directory 0700 0:0',
        'fresh/link-to-top': 'symlink 0777 0:0 -> top.txt',
        'existing-slash/top.txt': 'file 0644 0:0 "top\\n"',
        'multi/tree/sub/deep.txt': 'file 0644 0:0 "deep\\n"',
      });
    });

    const download = suite.fixture('file-download', { modes: { 'existing.txt': 0o640 } });
    test('downloads to a directory, to a path, onto an existing file, and several sources into one directory', async () => {
      const { kiln, packer } = await download();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files).toMatchObject({
        'dl/report.txt': { mode: '0644', text: 'report\n' },
        'saved/sub/renamed.txt': { mode: '0644', text: 'other\n' },
        'existing.txt': { mode: '0640', text: 'docker\n' },
        // Packer's bug, kept by Kiln: the second source overwrites the first, under the first's name.
        'multi/report.txt': { mode: '0644', text: 'docker\n' },
      });
    });

    const downloadDir = suite.fixture('file-download-dir');
    test('a directory download: Packer cannot, Kiln copies the directory', async () => {
      const { kiln, packer } = await downloadDir();
      const reason = 'Packer limitation: "DownloadDir is not implemented for docker"; Kiln downloads it as scp would';
      expect(kiln).toMatchPacker(packer, {
        differences: [
          { at: ['exitCode'], reason, packer: 1, kiln: 0 },
          {
            at: ['builds', 'docker', 'say'],
            reason,
            packer: expect.arrayContaining(['Downloading /data/dir/ => dl/', 'Provisioning step had errors: Running the cleanup provisioner, if present...']),
            kiln: expect.not.arrayContaining(['Provisioning step had errors: Running the cleanup provisioner, if present...']),
          },
          {
            at: ['files'],
            reason,
            packer: { dl: { dir: '0755' } },
            kiln: {
              'dl': { dir: '0755' },
              'dl/dir': { dir: '0755' },
              'dl/dir/sub': { dir: '0755' },
              'dl/dir/sub/y.txt': { mode: '0644', text: 'y\n' },
              'dl/dir/x.txt': { mode: '0644', text: 'x\n' },
            },
          },
          {
            at: ['summary'],
            reason,
            packer: expect.arrayContaining(['--> docker: DownloadDir is not implemented for docker']),
            kiln: expect.arrayContaining(['--> docker: Exported Docker file: ']),
          },
        ],
      });
    });

    const generated = suite.fixture('file-generated');
    test('generated sources made by shell-local from build data', async () => {
      const { kiln, packer } = await generated();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer).tree['made.txt']).toBe('file 0644 0:0 "made for container <container:docker> (docker)\\n"');
    });
  });

  describe('shell-local and build data', () => {
    const data = suite.fixture('shell-local-data');
    test('shell-local provisioners and post-processors see the same build data (ID, ImageSha256, ...); breakpoints disabled', async () => {
      const { kiln, packer } = await data();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files['pp-data.txt']).toEqual({
        mode: '0644',
        text: 'pp ID=<container:docker>\npp ImageSha256=sha256:<image:docker>\npp ConnType=docker raw=Build_ID. To set this dynamically in the Packer template, you must use the `build` function\n'
          + 'the image exists while post-processing\n',
      });
      expect(packer.report.files['pp-after-tag.txt']).toEqual({ mode: '0644', text: 'after docker-tag: ID=<no value> ImageSha256=<no value>\n' });
    });
  });

  describe('post-processors and artifact chains', () => {
    const tag = suite.fixture('docker-tag');
    test('docker-tag with tags, the deprecated tag, no tag, a comma string, and keep_input_artifact false (ignored)', async () => {
      const { kiln, packer } = await tag();
      expect(kiln).toMatchPacker(packer, {
        differences: [{ at: ['builds', 'docker', 'say'], reason: 'Kiln says what Packer only logs', kilnOnly: [KEEP_IGNORED] }],
      });
      expect(image(packer).tags).toEqual(['<repo>-plain:latest', '<repo>/chained-again:c', '<repo>/chained:a', '<repo>/chained:b', '<repo>:one', '<repo>:three', '<repo>:two']);
    });

    const save = suite.fixture('docker-save');
    test('docker-save of a tagged image and of the commit: manifest, config and layers', async () => {
      const { kiln, packer } = await save();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files['tagged.tar']).toMatchObject({ dockerSave: { manifest: [{ repoTags: ['<repo>:saved'] }] } });
      expect(packer.report.files['by-id.tar']).toMatchObject({ dockerSave: { manifest: [{ repoTags: null, layers: ['<base layer>', expect.anything()] }] } });
    });

    const importChain = suite.fixture('export-import-chain');
    test('docker-import of an export with changes, then docker-tag and docker-save; the export is removed', async () => {
      const { kiln, packer } = await importChain();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer, '<imported:docker>')).toMatchObject({
        tags: ['<repo>:imported', '<repo>:t1', '<repo>:t2'],
        config: { Env: ['IMPORTED=yes'], Cmd: ['/bin/cat', '/imported.txt'], WorkingDir: '/w', Labels: { source: 'import' } },
      });
      expect(packer.report.files['rootfs.tar']).toBeUndefined();
    });

    const importKeep = suite.fixture('import-keep-input');
    test('docker-import with keep_input_artifact keeps the export for later chains and after the build', async () => {
      const { kiln, packer } = await importKeep();
      expect(kiln).toMatchPacker(packer);
      expect(Object.keys(packer.report.files).sort()).toEqual(['chain2.txt', 'kept.tar']);
    });

    const importDestroy = suite.fixture('import-destroys-input');
    test('two chains import one export that neither keeps: both imports work, then the export goes', async () => {
      const { kiln, packer } = await importDestroy();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.files).toEqual({ gone: { dir: '0755' } });
      expect(image(packer, '<imported:docker#2>').tags).toEqual(['<repo>/two:latest']);
    });

    const keepInput = suite.fixture('keep-input-artifact');
    test('keep_input_artifact false along a chain: docker-tag keeps its input anyway, docker-save does not', async () => {
      const { kiln, packer } = await keepInput();
      expect(kiln).toMatchPacker(packer, {
        differences: [{ at: ['builds', 'docker', 'say'], reason: 'Kiln says what Packer only logs', kilnOnly: [KEEP_IGNORED, KEEP_IGNORED] }],
      });
      expect(image(packer).tags).toEqual(['<repo>:kept-by-force']);
    });

    const destroyCommit = suite.fixture('keep-input-destroys-commit');
    test('a lone chain that does not keep its input removes the committed image after saving it', async () => {
      const { kiln, packer } = await destroyCommit();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.images).toEqual({ '<image:docker>': 'removed' });
      expect(packer.report.files['only-copy.tar']).toMatchObject({ dockerSave: { manifest: [{ config: '<image:docker>.json' }] } });
    });

    const ppError = suite.fixture('post-processor-error');
    test('failing post-processors end their chain, later chains still run, and the build lists no artifact', async () => {
      const { kiln, packer } = await ppError();
      expect(kiln).toMatchPacker(packer);
      expect(packer.report.exitCode).toBe(1);
      expect(Object.keys(packer.report.files)).toEqual(['after-errors.tar']);
    });
  });

  describe('templates', () => {
    const two = suite.fixture('two-builders');
    test('two docker builders: only, except, override (lists merged element by element) and per-build post-processors', async () => {
      const { kiln, packer } = await two();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer, '<image:alpha>').tree['override.txt']).toBe('file 0644 0:0 "base-1\\nbase-2\\nbase-a base-b\\n"');
      expect(image(packer, '<image:beta>').tree['override.txt']).toBe('file 0644 0:0 "beta-1\\nbase-2\\nbeta-a base-b\\n"');
      expect(image(packer, '<image:beta>').tags).toEqual(['<repo>:beta', '<repo>:beta-only', '<repo>:skipped-for-alpha']);
    });

    const vars = suite.fixture('user-variables', { args: ['-var', 'overridden=from -var', '-var-file=vars.json'] });
    test('user variables: defaults, env, nesting, -var-file, and -var winning whatever the order', async () => {
      const { kiln, packer } = await vars();
      expect(kiln).toMatchPacker(packer);
      expect(image(packer)).toMatchObject({ tags: ['<repo>:v2'], config: { Env: ['GREETING=hello, file-who'], Labels: { version: 'v2' } } });
      expect(image(packer).tree['vars.txt']).toBe('file 0644 0:0 "hello from the environment\\nfrom the var file\\nfrom -var\\n\\n[]\\n"');
    });
  });
});
