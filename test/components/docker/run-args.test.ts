import { RunArgsError, builderRunArgs, parseRunArgs } from '../../../lib/components/docker/run-args';

describe('reading docker run arguments', () => {
  it('reads Packer\'s default run_command as the docker CLI would', () => {
    const spec = parseRunArgs(['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', 'debian:12']);
    expect(spec.image).toBe('debian:12');
    expect(spec.command).toEqual([]);
    expect(spec.create).toEqual({
      Image: 'debian:12',
      Tty: true,
      OpenStdin: true,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      StdinOnce: false,
      Entrypoint: ['/bin/sh'],
      HostConfig: {},
    });
  });

  it('takes grouped short flags, attached values and "=" values alike', () => {
    const spec = parseRunArgs(['-dit', '-eA=1', '-e=B=2', '-e', 'C=3', '--env', 'D=4', '--env=E=5', '-uroot', '-w', '/srv', 'img']);
    expect(spec.create.Env).toEqual(['A=1', 'B=2', 'C=3', 'D=4', 'E=5']);
    expect(spec.create.User).toBe('root');
    expect(spec.create.WorkingDir).toBe('/srv');
    expect(spec.create.Tty).toBe(true);
  });

  it('stops reading options at the image: what follows is the command', () => {
    const spec = parseRunArgs(['-d', 'img', 'sh', '-c', 'echo -d']);
    expect(spec.image).toBe('img');
    expect(spec.create.Cmd).toEqual(['sh', '-c', 'echo -d']);
  });

  it('attaches the output of a container that is not detached, and stdin with -i, as the CLI does', () => {
    const spec = parseRunArgs(['-i', 'img']);
    expect(spec.create).toMatchObject({ AttachStdin: true, AttachStdout: true, AttachStderr: true, OpenStdin: true, StdinOnce: true });
  });

  it('reads labels, name, hostname, network, init and the host options', () => {
    const spec = parseRunArgs([
      '-l', 'a=1', '--label=b', '--name', 'box', '-h', 'host1', '--net', 'host', '--init', '--rm', '--privileged',
      '--cap-add', 'NET_ADMIN', '--cap-drop=MKNOD', '--device', '/dev/fuse', '--device', '/dev/sda:/dev/xvda:r',
      '--device', '/dev/null:rw', '--tmpfs', '/run', '--tmpfs', '/tmp:size=1m,mode=1777', 'img',
    ]);
    expect(spec.create.Labels).toEqual({ a: '1', b: '' });
    expect(spec.create.name).toBe('box');
    expect(spec.create.Hostname).toBe('host1');
    expect(spec.create.HostConfig).toEqual({
      NetworkMode: 'host',
      Init: true,
      Privileged: true,
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['MKNOD'],
      Devices: [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
        { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rw' },
      ],
      Tmpfs: { '/run': '', '/tmp': 'size=1m,mode=1777' },
    });
  });

  it('binds host paths (relative ones from the working directory) and declares anonymous volumes', () => {
    const spec = parseRunArgs(['-v', '/data:/data:ro', '--volume=./here:/here', '-v', '/anon', 'img'], '/work');
    expect(spec.create.HostConfig?.Binds).toEqual(['/data:/data:ro', '/work/here:/here']);
    expect(spec.create.Volumes).toEqual({ '/anon': {} });
  });

  it('resets the image entrypoint when --entrypoint is given empty', () => {
    expect(parseRunArgs(['--entrypoint=', 'img']).create.Entrypoint).toEqual(['']);
  });

  it('names the option it does not know, long or short', () => {
    expect(() => parseRunArgs(['--restart', 'always', 'img'])).toThrow(RunArgsError);
    expect(() => parseRunArgs(['--restart', 'always', 'img'])).toThrow(/^run_command: Kiln does not support the docker run option "--restart"; it understands -d\/--detach, .*--no-healthcheck \(and "--"\)$/);
    expect(() => parseRunArgs(['-da', 'stdout', 'img'])).toThrow('run_command: Kiln does not support the docker run option "-a" (in "-da")');
  });

  it('says when an option lacks its value, a boolean gets a wrong one, or there is no image', () => {
    expect(() => parseRunArgs(['-d', '--name'])).toThrow('run_command: the option "--name" needs a value');
    expect(() => parseRunArgs(['--privileged=yes', 'img'])).toThrow('run_command: invalid value "yes" for --privileged: a boolean flag takes true or false');
    expect(() => parseRunArgs(['-d', '--'])).toThrow('run_command names no image: put the image (usually "{{.Image}}") after the options');
    expect(parseRunArgs(['--privileged=false', 'img']).create.HostConfig?.Privileged).toBeUndefined();
  });
});

describe('the docker run arguments of the docker builder', () => {
  it('puts devices, capabilities, privileged, tmpfs and volumes before run_command, as Packer does', () => {
    expect(builderRunArgs({
      device: ['/dev/fuse'], cap_add: ['SYS_ADMIN'], cap_drop: ['MKNOD'], privileged: true, tmpfs: ['/run'], volumes: { '/host': '/ctr' },
    }, ['-d', 'img'])).toEqual(['--device', '/dev/fuse', '--cap-add', 'SYS_ADMIN', '--cap-drop', 'MKNOD', '--privileged', '--tmpfs', '/run', '-v', '/host:/ctr', '-d', 'img']);
  });
});
